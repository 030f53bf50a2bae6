import { describe, expect, it } from 'vitest';
import { splitWords, wordIds } from '../text/words.js';
import { duplicateNGramChars, gopherRepetitionFilter, topNGramChars } from './gopher-repetition.js';
import { uniqueWords, verdict } from './test-helpers.js';

/** datatrove's string implementations, as the reference. */
function refTop(words: string[], n: number): number {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= words.length; i++) {
    const g = words.slice(i, i + n).join(' ');
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  let best: [string, number] = ['', 0];
  for (const e of counts) if (e[1] > best[1]) best = e; // Counter.most_common: first inserted wins ties
  return best[0].length * best[1];
}
function refDup(words: string[], n: number): number {
  const seen = new Set<string>();
  let chars = 0;
  let i = 0;
  while (i < words.length - n + 1) {
    const g = words.slice(i, i + n).join('');
    if (seen.has(g)) {
      chars += g.length;
      i += n;
    } else {
      seen.add(g);
      i++;
    }
  }
  return chars;
}

const only = (o: Parameters<typeof gopherRepetitionFilter>[0]) =>
  gopherRepetitionFilter({ dupParaFrac: null, dupParaCharFrac: null, dupLineFrac: null, dupLineCharFrac: null, topNGrams: [], dupNGrams: [], ...o });

describe('gopherRepetitionFilter', () => {
  it('n-gram statistics on word ids equal the string reference on random texts', () => {
    let s = 1;
    const vocab = uniqueWords(12, 4);
    for (let t = 0; t < 50; t++) {
      const words = Array.from({ length: 300 }, () => vocab[(s = (s * 1103515245 + 12345) >>> 0) % (3 + (t % 9))]);
      const { ids, lengths } = wordIds(words);
      for (const n of [2, 3, 4]) expect(topNGramChars(ids, lengths, n)).toBe(refTop(words, n));
      for (const n of [5, 6, 7, 8, 9, 10]) expect(duplicateNGramChars(ids, lengths, n)).toBe(refDup(words, n));
    }
  });

  it('duplicate line fraction ≤ 0.3', async () => {
    const f = only({ dupLineFrac: 0.3 });
    const lines = uniqueWords(10, 6);
    expect(await verdict(f, [...lines.slice(0, 7), lines[0], lines[1], lines[2]].join('\n'))).toBe('keep');
    expect(await verdict(f, [...lines.slice(0, 6), lines[0], lines[1], lines[2], lines[3]].join('\n'))).toBe('dup_line_frac');
  });

  it('duplicate line characters ≤ 0.2', async () => {
    const f = only({ dupLineCharFrac: 0.2 });
    const a = 'a'.repeat(20);
    expect(await verdict(f, `${a}\n${'b'.repeat(58)}\n${a}`)).toBe('keep'); // 20 / 100
    expect(await verdict(f, `${a}\n${'b'.repeat(57)}\n${a}`)).toBe('dup_line_char_frac'); // 20 / 99
  });

  it('duplicate paragraph fraction ≤ 0.3 and characters ≤ 0.3', async () => {
    const p = uniqueWords(10, 6);
    expect(await verdict(only({ dupParaFrac: 0.3 }), [...p.slice(0, 7), p[0], p[1], p[2]].join('\n\n'))).toBe('keep');
    expect(await verdict(only({ dupParaFrac: 0.3 }), [...p.slice(0, 6), p[0], p[1], p[2], p[3]].join('\n\n'))).toBe('dup_para_frac');
    const a = 'a'.repeat(30);
    // 30 / (30 + 2 + b + 2 + 30) = 0.3 at b = 36
    expect(await verdict(only({ dupParaCharFrac: 0.3 }), `${a}\n\n${'b'.repeat(36)}\n\n${a}`)).toBe('keep');
    expect(await verdict(only({ dupParaCharFrac: 0.3 }), `${a}\n\n${'b'.repeat(35)}\n\n${a}`)).toBe('dup_para_char_frac');
  });

  it('top 2-gram characters ≤ 0.2', async () => {
    const f = only({ topNGrams: [[2, 0.2]] });
    const rep = 'ab cd ab cd ab cd ab cd '; // "ab cd" 4 × 5 = 20 chars
    const pad = (len: number): string => {
      const w = uniqueWords(20, 5);
      let s = w.slice(0, Math.floor(len / 6)).join(' ');
      return s + ' ' + 'z'.repeat(len - s.length - 1);
    };
    expect(await verdict(f, rep + pad(76))).toBe('keep'); // 20 / 100
    expect(await verdict(f, rep + pad(75))).toBe('top_2_gram'); // 20 / 99
  });

  it('duplicated 5-gram characters ≤ 0.15', async () => {
    const f = only({ dupNGrams: [[5, 0.15]] });
    const five = 'aaa bbb ccc ddd eee'; // repeated once: 15 characters without spaces
    const fill = (len: number): string => 'q'.repeat(len);
    // text = five + ' ' + five + ' ' + fill → 39 + 1 + fill characters
    expect(await verdict(f, `${five} ${five} ${fill(60)}`)).toBe('keep'); // 15 / 100
    expect(await verdict(f, `${five} ${five} ${fill(59)}`)).toBe('duplicated_5_n_grams'); // 15 / 99
  });

  it('passes clean prose with the published defaults', async () => {
    const text = 'The committee met on Monday to discuss the budget. Members asked hard questions about spending, and the chair promised answers by Friday. Several proposals were tabled for the next session.';
    expect(await verdict(gopherRepetitionFilter(), text)).toBe('keep');
    expect(splitWords(text).length).toBeGreaterThan(20);
  });
});
