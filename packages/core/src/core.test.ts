import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LmkitError, atomicWriteFile, atomicWriteStream, createProgress, formatDuration, isLmkitError } from './index.js';

describe('LmkitError', () => {
  it('carries code, hint and details and serializes them', () => {
    const e = new LmkitError('TEST_BAD_INPUT', 'x.txt:3: bad', { hint: 'fix it', details: { line: 3 } });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('LmkitError');
    expect(isLmkitError(e)).toBe(true);
    expect(isLmkitError(new Error('plain'))).toBe(false);
    expect(e.toJSON()).toEqual({ name: 'LmkitError', code: 'TEST_BAD_INPUT', message: 'x.txt:3: bad', hint: 'fix it', details: { line: 3 } });
  });
  it('subclasses keep their own name', () => {
    class TokenizerError extends LmkitError {}
    expect(new TokenizerError('TOKENIZER_X', 'm').name).toBe('TokenizerError');
  });
});

describe('atomic writes', () => {
  it('writes whole files and leaves no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-core-'));
    const path = join(dir, 'a', 'b.txt');
    await atomicWriteFile(path, 'hello');
    await atomicWriteFile(path, 'world');
    expect(await readFile(path, 'utf8')).toBe('world');
    expect(await readdir(join(dir, 'a'))).toEqual(['b.txt']);
  });
  it('stream: nothing appears until commit, abort leaves nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-core-'));
    const w = await atomicWriteStream(join(dir, 'out.jsonl'));
    w.stream.write('{"a":1}\n');
    expect(await readdir(dir)).not.toContain('out.jsonl');
    await w.commit();
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('{"a":1}\n');
    const w2 = await atomicWriteStream(join(dir, 'gone.jsonl'));
    w2.stream.write('x');
    await w2.abort();
    expect(await readdir(dir)).toEqual(['out.jsonl']);
  });
});

describe('progress', () => {
  it('emits JSON lines with done, total, rate and a final event', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const p = createProgress({ label: 'work', total: 10, unit: 'docs', mode: 'json', stream: out as unknown as NodeJS.WriteStream, intervalMs: 0 });
    p.tick(4, { loss: 1.5 });
    p.update(10);
    p.stop();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ event: 'done', label: 'work', done: 10, total: 10, unit: 'docs', loss: 1.5 });
    expect(lines[0]).toMatchObject({ event: 'progress', done: 4 });
    expect(typeof lines[0].rate).toBe('number');
  });
  it('formats durations', () => {
    expect(formatDuration(7)).toBe('7s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3723)).toBe('1h02m03s');
  });
});
