// Pipeline parallel (GPipe and 1F1B) against the sequential model: same parameters after AdamW steps, same losses, activations held as the schedule says.
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, randomBatch, sliceBatch, smallGpt } from '../../test/parallel-fixtures.js';
import { fromLmkitModel } from '../lmkit-model.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip-grad-norm.js';
import { runInProcess } from './comm/threads.js';
import type { Communicator } from './communicator.js';
import { pipelineParallel } from './pipeline.js';
import { pipelineSchedule, simulateSchedule } from './pipeline-schedule.js';

const B = 8;
const T = 16;
const LR = 1e-3;
const STEPS = 2;
const batches = Array.from({ length: STEPS }, (_, s) => randomBatch(B, T, 64, 500 + s));

function sequential(m: number, layers: number, tie: boolean): { params: Map<string, Float32Array>; losses: number[] } {
  const model = fromLmkitModel(smallGpt(7, { n_layer: layers, tie_word_embeddings: tie }));
  const params = model.parameters();
  const opt = new AdamW(params.map((p) => ({ ...p })), { lr: LR });
  const losses: number[] = [];
  for (const batch of batches) {
    model.zeroGrad();
    let loss = 0;
    for (let k = 0; k < m; k++) loss += model.lossAndBackward(sliceBatch(batch, (k * B) / m, ((k + 1) * B) / m), { lossScale: 1 / m });
    losses.push(loss / m);
    clipGradNorm(params.map((p) => p.grad), 1.0);
    opt.step(LR);
    model.syncParameters?.();
  }
  return { params: new Map(params.map((p) => [p.name, p.data.slice()])), losses };
}

describe('pipeline parallel', () => {
  for (const [p, layers, m, tie] of [[2, 2, 4, true], [4, 4, 4, false], [3, 4, 2, true]] as const) {
    for (const kind of ['gpipe', '1f1b'] as const) {
      it(`${kind}, ${p} stages × ${m} micro-batches (${layers} layers, ${tie ? 'tied' : 'untied'} head) = sequential`, async () => {
        const ref = sequential(m, layers, tie);
        const out = await runInProcess(p, async (comm, r) => {
          const pp = await pipelineParallel(comm, smallGpt(7 + r, { n_layer: layers, tie_word_embeddings: tie }), { schedule: kind, microBatches: m, optimizer: { lr: LR } });
          const losses: number[] = [];
          for (const batch of batches) losses.push((await pp.step([batch], LR)).loss);
          return { losses, params: await pp.fullParameters(), peak: pp.peakActivations() };
        });
        // Activations held at once, measured in the run, match the schedule simulator (GPipe m, 1F1B min(p − s, m)).
        const sim = simulateSchedule(pipelineSchedule(kind, p, m));
        expect(out.map((o) => o.peak)).toEqual(sim.peakInFlight);
        for (const o of out) {
          o.losses.forEach((l, i) => expect(Math.abs(l - ref.losses[i])).toBeLessThan(1e-5));
          const d = maxAbsDiff(o.params, ref.params);
          expect(d).toBeLessThan(0.05 * LR * STEPS);
        }
        console.log(`${kind} p=${p} m=${m}: max |Δparam| vs sequential = ${maxAbsDiff(out[0].params, ref.params).toExponential(2)}`);
      });
    }
  }

  it('gpipe: each activation is handed over before the next forward starts (sends get an event-loop turn)', async () => {
    // A send that can only move on in an event-loop turn (as a threads channel still holding the previous message, or a
    // socket write). Before the fix, stage 0 ran F0..F3 back to back and F1..F3's activations left only after F3 — the
    // measured 43.8 % GPipe bubble (ideal 20 %); the last stage held back B1..B3's gradients the same way.
    const out = await runInProcess(2, async (comm, r) => {
      const handedOver: number[] = [];
      const slow = Object.create(comm) as Communicator;
      slow.send = (peer, data) => new Promise<void>((resolve, reject) => setImmediate(() => (handedOver.push(performance.now()), comm.send(peer, data).then(resolve, reject))));
      const pp = await pipelineParallel(slow, smallGpt(7 + r), { schedule: 'gpipe', microBatches: 4, optimizer: { lr: LR } });
      handedOver.length = 0;
      await pp.step([batches[0]], LR);
      return { timeline: pp.lastTimeline(), handedOver: handedOver.slice(0, 4) };
    });
    // Stage 0 sends F0..F3's activations, the last stage B0..B3's gradients: each leaves before the next op starts.
    for (const [s, type] of [[0, 'F'], [1, 'B']] as const) {
      const ops = out[s].timeline.filter((o) => o.op.type === type);
      for (let k = 0; k < 3; k++) expect(out[s].handedOver[k], `stage ${s} ${type}${k}`).toBeLessThan(ops[k + 1].start);
    }
  });
});
