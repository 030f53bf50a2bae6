// `lmkit train` end to end on a small shard directory, plus the config and data errors it must name.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer, saveTokenizer, trainBpe } from '@lmkit/tokenizer';
import { runCli } from '../test-cli.js';
import { registerTrainCommands } from './train.js';

const dir = mkdtempSync(join(tmpdir(), 'lmkit-cli-train-'));

const lmkit = (...argv: string[]) => runCli([registerTrainCommands], ...argv);

function shard(path: string, tokens: number[]): void {
  const header = new Int32Array(256);
  header.set([20240520, 1, tokens.length]);
  writeFileSync(path, Buffer.concat([Buffer.from(header.buffer), Buffer.from(Uint16Array.from(tokens).buffer)]));
}

const data = join(dir, 'tokens');
const text = 'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. ';
const bytes = [...Buffer.from(text.repeat(40))];
mkdirSync(data, { recursive: true });
shard(join(data, 'train_000000.bin'), bytes);
shard(join(data, 'val_000000.bin'), bytes.slice(0, 600));
const config = join(dir, 'run.json');
writeFileSync(config, JSON.stringify({
  model: { model_type: 'gpt2', vocab_size: 256, n_positions: 32, n_embd: 32, n_layer: 1, n_head: 2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 },
  batch_size: 2, seq_len: 32, lr: 0.003, warmup_steps: 1, eval_batches: 2,
}));

describe('lmkit train', () => {
  it('trains from a config + flags and writes checkpoint, metrics and report; --resume continues', async () => {
    const out = join(dir, 'run');
    const r = await lmkit('train', '--data', data, '--out', out, '--config', config, '--steps', '4', '--gradient-checkpointing');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trained step 4: loss \d+\.\d+, val loss \d+\.\d+/);
    for (const f of ['checkpoint/model.safetensors', 'checkpoint/config.json', 'checkpoint/optimizer.safetensors', 'checkpoint/trainer_state.json', 'metrics.jsonl', 'report.html']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    const again = await lmkit('--json', 'train', '--data', data, '--out', out, '--config', config, '--steps', '4', '--resume');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ steps: 4, interrupted: false });
    const more = await lmkit('--json', 'train', '--data', data, '--out', out, '--config', config, '--steps', '6', '--resume');
    expect(JSON.parse(more.stdout)).toMatchObject({ steps: 6, interrupted: false });
  });
  it('puts the tokenizer that came with the shards beside the checkpoint', async () => {
    const withTok = join(dir, 'tokens-with-tokenizer');
    mkdirSync(withTok, { recursive: true });
    shard(join(withTok, 'train_000000.bin'), bytes);
    const { tokenizer } = await trainBpe([text], { vocabSize: 257, specialTokens: ['<|endoftext|>'] });
    await saveTokenizer(tokenizer, join(withTok, 'tokenizer'));
    const out = join(dir, 'run-tok');
    const r = await lmkit('train', '--data', withTok, '--out', out, '--config', config, '--steps', '2');
    expect(r.code, r.stderr).toBe(0);
    const copied = await loadTokenizer(join(out, 'checkpoint', 'tokenizer'));
    expect([...copied.encode('a single man')]).toEqual([...tokenizer.encode('a single man')]);
  });
  it('names the field of a bad config, the context limit and empty data', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'steps: 3\nlearning_rate: 0.1\n');
    const r = await lmkit('train', '--data', data, '--out', join(dir, 'x'), '--config', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TRAIN_BAD_CONFIG.*bad.yaml: unknown field "learning_rate"/);
    const long = await lmkit('train', '--data', data, '--out', join(dir, 'x'), '--seq-len', '4096');
    expect(long.stderr).toMatch(/seq_len 4096 exceeds the model's context of 128/);
    const heads = join(dir, 'heads.json');
    writeFileSync(heads, JSON.stringify({ model: { model_type: 'gpt2', n_embd: 30, n_head: 4 } }));
    expect((await lmkit('train', '--data', data, '--out', join(dir, 'x'), '--config', heads)).stderr).toMatch(/n_head|n_embd/);
    const empty = mkdtempSync(join(tmpdir(), 'lmkit-cli-empty-'));
    const e = await lmkit('train', '--data', empty, '--out', join(dir, 'x'));
    expect(e.stderr).toMatch(/TRAIN_NO_DATA.*no .bin token shards/);
    expect(existsSync(join(dir, 'x', 'checkpoint'))).toBe(false);
  });
});
