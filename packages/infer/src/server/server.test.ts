import { request } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigramLM, byteTokenizer } from '../../test/bigram-lm.js';
import { serve, type RunningServer } from './server.js';

const story = 'the cat sat on the mat. the dog sat on the log. ';
const alphabet = 'abcdefghijklmnopqrstuvwxyz ';

/** A bigram model that takes `ms` per step, to keep a request running. */
function slowModel(ms: number): BigramLM {
  const m = BigramLM.fromText(story, 100_000);
  const next = m.nextLogits.bind(m);
  m.nextLogits = (ids, cache) => {
    const until = Date.now() + ms;
    while (Date.now() < until);
    return next(ids, cache);
  };
  return m;
}
let server: RunningServer;
let client: OpenAI;

function raw(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    // NOTE: the request path is sent verbatim (no URL normalization), to test traversal attempts.
    req.path = path;
    req.end(body);
  });
}

beforeAll(async () => {
  server = await serve({ models: [{ id: 'bigram', model: BigramLM.fromText(alphabet, 128), tokenizer: byteTokenizer }], port: 0, maxBodyBytes: 64 * 1024, maxWaiting: 100 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
});

describe('OpenAI-compatible API (official openai client)', () => {
  it('lists models', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['bigram']);
  });
  it('completes a prompt (greedy with temperature 0) with usage', async () => {
    const r = await client.completions.create({ model: 'bigram', prompt: 'abc', max_tokens: 12, temperature: 0 });
    expect(r.object).toBe('text_completion');
    expect(r.choices[0].text).toBe('defghijklmno');
    expect(r.choices[0].finish_reason).toBe('length');
    expect(r.usage).toEqual({ prompt_tokens: 3, completion_tokens: 12, total_tokens: 15 });
  });
  it('streams a completion as SSE chunks that add up to the non-streamed text', async () => {
    const stream = await client.completions.create({ model: 'bigram', prompt: 'abc', max_tokens: 12, temperature: 0, stream: true });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0].text;
      chunks++;
    }
    expect(text).toBe('defghijklmno');
    expect(chunks).toBeGreaterThan(3);
  });
  it('chats, non-streamed and streamed', async () => {
    const messages = [{ role: 'user' as const, content: 'hello' }];
    const r = await client.chat.completions.create({ model: 'bigram', messages, max_tokens: 10, temperature: 0 });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0].message.role).toBe('assistant');
    const stream = await client.chat.completions.create({ model: 'bigram', messages, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(r.choices[0].message.content);
    expect(usage).toMatchObject({ completion_tokens: r.usage?.completion_tokens });
  });
  it('serves 50 concurrent requests through the queue', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.completions.create({ model: 'bigram', prompt: 'the', max_tokens: 8, seed: i, temperature: 1 })),
    );
    expect(results).toHaveLength(50);
    for (const r of results) {
      // NOTE: sampling may draw end-of-text early (finish_reason 'stop'); otherwise all 8 tokens come.
      const n = r.usage?.completion_tokens ?? 0;
      expect(n >= 1 && n <= 8).toBe(true);
      expect(r.choices[0].finish_reason).toBe(n === 8 ? r.choices[0].finish_reason : 'stop');
    }
    expect(server.load()).toEqual({ active: 0, queued: 0 });
  });
  it('an unknown model is a 404 in OpenAI shape', async () => {
    await expect(client.completions.create({ model: 'nope', prompt: 'x' })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });
});

describe('bad requests', () => {
  it('malformed JSON → 400 invalid_request_error', async () => {
    const r = await raw('POST', '/v1/completions', '{"model": "bigram", ');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });
  it('an oversized body → 413', async () => {
    const r = await raw('POST', '/v1/completions', JSON.stringify({ model: 'bigram', prompt: 'x'.repeat(100_000) }));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.code).toBe('body_too_large');
  });
  it('out-of-range fields name the parameter', async () => {
    const r = await raw('POST', '/v1/completions', JSON.stringify({ model: 'bigram', prompt: 'x', temperature: 7 }));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.param).toBe('temperature');
    const m = await raw('POST', '/v1/chat/completions', JSON.stringify({ model: 'bigram', messages: [{ role: 'robot', content: 'x' }] }));
    expect(JSON.parse(m.body).error.param).toBe('messages[0].role');
  });
  it('never serves files outside the static folder', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/static/../../package.json', '/%2e%2e%2f%2e%2e%2fetc/passwd']) {
      const r = await raw('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain('"name"');
    }
    const page = await raw('GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>lmkit chat</title>');
  });
  it('a client that disconnects mid-stream frees its slot', async () => {
    const slow = await serve({ models: [{ id: 'bigram', model: slowModel(2), tokenizer: byteTokenizer }], port: 0, maxTokens: 100_000 });
    try {
      const controller = new AbortController();
      const res = await fetch(`${slow.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'bigram', prompt: 'the', max_tokens: 50_000, stream: true }),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      expect(res.status).toBe(200);
      expect(slow.load().active).toBe(1);
      controller.abort();
      for (let i = 0; i < 100 && slow.load().active > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(slow.load()).toEqual({ active: 0, queued: 0 });
      const after = await fetch(`${slow.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'bigram', prompt: 'the', max_tokens: 3 }) });
      expect(after.status).toBe(200);
    } finally {
      await slow.close();
    }
  });
});
