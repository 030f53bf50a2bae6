// Tests of the server's batching: concurrent requests decode together and each gets what it gets alone.
import { DecoderLM, getPreset } from '@lmkit/model';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteTokenizer } from '../../test/bigram-lm.js';
import { generateText } from '../generate.js';
import { fromDecoderLM, type ModelRunner } from '../model-adapter.js';
import { serve, type RunningServer } from './server.js';

const runner = fromDecoderLM(new DecoderLM({ ...getPreset('tiny'), vocab_size: 257 } as never, { seed: 3 }));
const sizes: number[] = [];
const probed: ModelRunner = { ...runner, nextLogitsBatch: (ids, b, mask, cache) => (sizes.push(b), runner.nextLogitsBatch(ids, b, mask, cache)) };
let server: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  server = await serve({ models: [{ id: 'tiny', model: probed, tokenizer: byteTokenizer }], port: 0, batchSize: 4 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
});

describe('serve({ batchSize })', () => {
  it('runs concurrent requests in batches, each completion equal to generating it alone', async () => {
    sizes.length = 0;
    const prompts = ['Hello', 'A much longer prompt here', 'x', 'Numbers 123', 'Sixth', 'Seventh one'];
    const replies = await Promise.all(prompts.map((prompt, i) => client.completions.create({ model: 'tiny', prompt, max_tokens: 4 + i, temperature: 0 })));
    for (let i = 0; i < prompts.length; i++) {
      const alone = await generateText(runner, byteTokenizer, prompts[i]!, { max_new_tokens: 4 + i, do_sample: false });
      expect(replies[i]!.choices[0]!.text).toBe(alone.text);
      expect(replies[i]!.usage?.completion_tokens).toBe(4 + i);
    }
    expect(Math.max(...sizes)).toBeGreaterThan(1); // requests really shared forwards
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(server.load()).toEqual({ active: 0, queued: 0 });
  });

  it('streams inside a batch, and a client that disconnects leaves the batch without disturbing the others', async () => {
    sizes.length = 0;
    const controller = new AbortController();
    const dropped = (async () => {
      const stream = await client.completions.create({ model: 'tiny', prompt: 'dropped', max_tokens: 100, temperature: 0, stream: true }, { signal: controller.signal });
      let n = 0;
      for await (const _ of stream) if (++n === 2) controller.abort();
      return n;
    })().catch(() => -1);
    const kept = client.completions.create({ model: 'tiny', prompt: 'kept', max_tokens: 30, temperature: 0, stream: true });
    let text = '';
    for await (const chunk of await kept) text += chunk.choices[0]!.text;
    expect(await dropped).toBeLessThan(100);
    expect(text).toBe((await generateText(runner, byteTokenizer, 'kept', { max_new_tokens: 30, do_sample: false })).text);
    for (let i = 0; i < 100 && server.load().active > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.load()).toEqual({ active: 0, queued: 0 });
    expect(sizes.length).toBeLessThan(60); // the dropped request's 100 tokens were never all generated
  });

  it('a request arriving while a batch runs joins it at the next step', async () => {
    sizes.length = 0;
    const first = client.completions.create({ model: 'tiny', prompt: 'A first, long-running request', max_tokens: 90, temperature: 0, stream: true });
    let text = '';
    let joined: Promise<string> | null = null;
    for await (const chunk of await first) {
      text += chunk.choices[0]!.text;
      joined ??= client.completions.create({ model: 'tiny', prompt: 'Joiner', max_tokens: 10, temperature: 0 }).then((r) => r.choices[0]!.text);
    }
    expect(text).toBe((await generateText(runner, byteTokenizer, 'A first, long-running request', { max_new_tokens: 90, do_sample: false })).text);
    expect(await joined).toBe((await generateText(runner, byteTokenizer, 'Joiner', { max_new_tokens: 10, do_sample: false })).text);
    expect(sizes).toContain(2); // decoded side by side
    expect(sizes.length).toBeLessThan(90 + 10 + 2); // fewer forwards than one request after the other
  });

  it('chat stop strings end one request of a batch', async () => {
    const [a, b] = await Promise.all([
      client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, temperature: 0, stop: ['\u0000never'] }),
      client.completions.create({ model: 'tiny', prompt: 'stop here', max_tokens: 20, temperature: 0 }),
    ]);
    expect(a.choices[0]!.finish_reason).toBe('length');
    const free = b.choices[0]!.text;
    const cut = free.slice(2, 4);
    const stopped = await client.completions.create({ model: 'tiny', prompt: 'stop here', max_tokens: 20, temperature: 0, stop: [cut] });
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(stopped.choices[0]!.text).toBe(free.slice(0, free.indexOf(cut)));
  });

  it('rejects a batchSize below 1', async () => {
    await expect(serve({ models: [{ id: 'tiny', model: runner, tokenizer: byteTokenizer }], port: 0, batchSize: 0 })).rejects.toThrow(/batchSize must be an integer ≥ 1/);
  });
});
