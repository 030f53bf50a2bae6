// `lmkit serve` as a real process (the built CLI): it listens, answers OpenAI-shaped requests, batches concurrent ones and stops on SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecoderLM, getPreset, saveModel } from '@lmkit/model';
import { saveTokenizer, trainBpe } from '@lmkit/tokenizer';

const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const modelDir = join(mkdtempSync(join(tmpdir(), 'lmkit-cli-serve-')), 'model');

beforeAll(async () => {
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
  const tokenizer = (await trainBpe([text], { vocabSize: 300, specialTokens: ['<|endoftext|>'] })).tokenizer;
  const model = new DecoderLM({ ...getPreset('tiny'), vocab_size: tokenizer.vocabSize } as never, { seed: 2 });
  await saveModel(model, modelDir);
  await saveTokenizer(tokenizer, modelDir);
});

/** Starts `lmkit --json serve ... --port 0` and resolves with its URL once it prints the listening event. */
function startServer(...flags: string[]): Promise<{ url: string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [bin, '--json', 'serve', '--model', modelDir, '--port', '0', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.includes('"listening"'));
      if (line) {
        const { url } = JSON.parse(line) as { url: string };
        resolve({ url, stop: () => (child.kill('SIGTERM'), exited) });
      }
    });
    void exited.then((code) => reject(new Error(`lmkit serve exited (${code}) before listening: ${stderr}`)));
  });
}

describe.skipIf(!existsSync(bin) && !process.env.CI)(`lmkit serve (built CLI)${existsSync(bin) ? '' : ' — skipped: apps/cli/dist is not built (npm run build)'}`, () => {
  it('--batch-size 4 answers concurrent completions (greedy output equals one at a time) and exits 0 on SIGTERM', async () => {
    const server = await startServer('--batch-size', '4');
    try {
      const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
      const model = models.data[0]!.id;
      const ask = async (prompt: string) => {
        const res = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, prompt, max_tokens: 8, temperature: 0 }) });
        expect(res.status).toBe(200);
        return ((await res.json()) as { choices: { text: string }[] }).choices[0]!.text;
      };
      const prompts = ['The quick', 'The lazy dog', 'brown fox jumps', 'over'];
      const alone: string[] = [];
      for (const p of prompts) alone.push(await ask(p));
      const together = await Promise.all(prompts.map(ask));
      expect(together).toEqual(alone);
      const bad = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
  it('--batch-size 0 is a usage error naming the flag', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--model', modelDir, '--batch-size', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('--batch-size');
  });
});
