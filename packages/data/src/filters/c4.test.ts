import { describe, expect, it } from 'vitest';
import { isDrop, type Document } from '../types.js';
import { c4Filter } from './c4.js';
import { compileBadWords } from './bad-words.js';
import { run, verdict } from './test-helpers.js';

const good = (i: number): string => `This is sentence number ${i} of a clean page.`;
const page = (n: number): string => Array.from({ length: n }, (_, i) => good(i)).join('\n');

describe('c4Filter', () => {
  const f = c4Filter();
  it('needs 5 sentences after line filtering', async () => {
    expect(await verdict(f, page(5))).toBe('keep');
    expect(await verdict(f, page(4))).toBe('too_few_sentences');
  });

  it('removes lines without terminal punctuation, ending in "...", with < 3 words, with a word > 1000 chars', async () => {
    const text = [page(5), 'No final punctuation here', 'Trailing ellipsis here...', 'Two words.', `A ${'x'.repeat(1001)} word.`, `A ${'x'.repeat(1000)} word.`].join('\n');
    const r = (await run(f, text)) as Document;
    expect(r.text).toBe([page(5), `A ${'x'.repeat(1000)} word.`].join('\n'));
  });

  it('keeps a line of exactly 3 words and drops one of 2', async () => {
    const r = (await run(f, [page(5), 'Three words here.', 'Two words.'].join('\n'))) as Document;
    expect(r.text).toBe([page(5), 'Three words here.'].join('\n'));
  });

  it('strips citations, drops javascript and policy lines, keeps quotes as terminal', async () => {
    const text = [page(5), 'The war ended in 1945.[12] It was long.[citation needed]', 'Please enable JavaScript to view this page.', 'Read our privacy policy before you go.', 'He said "we are done."'].join('\n');
    const r = (await run(f, text)) as Document;
    expect(r.text).toBe([page(5), 'The war ended in 1945. It was long.', 'He said "we are done."'].join('\n'));
  });

  it('drops documents with lorem ipsum or a curly bracket', async () => {
    expect(await verdict(f, page(5) + '\nLorem ipsum dolor sit amet.')).toBe('lorem_ipsum');
    expect(await verdict(f, page(5) + '\nfunction x() { return 1; }.')).toBe('curly_bracket');
  });

  it('with filterNoTerminalPunct false (FineWeb) keeps unpunctuated lines', async () => {
    const r = (await run(c4Filter({ filterNoTerminalPunct: false }), page(5) + '\nNo final punctuation here')) as Document;
    expect(r.text.endsWith('No final punctuation here')).toBe(true);
  });

  it('bad words are opt-in, \\W-bounded, and match phrases', async () => {
    expect(await verdict(f, page(5) + '\nWhat an ass he was.')).toBe('keep');
    const bw = c4Filter({ badWordsLanguage: 'en' });
    expect(await verdict(bw, page(5) + '\nWhat an ass he was.')).toBe('bad_words');
    expect(await verdict(bw, page(5) + '\nThe class passed the assessment.')).toBe('keep');
    const m = compileBadWords(['two girls', 's&m', 'ass']);
    expect(m.find('watch two  girls')).toBeUndefined(); // C4's regex needs a single space
    expect(m.find('watch Two Girls now')).toBe('two girls');
    expect(m.find('an s&m club')).toBe('s&m');
    expect(m.find('ps&ms')).toBeUndefined();
    expect(() => c4Filter({ badWordsLanguage: 'xx' }).process({ id: '', text: 'a', meta: {} }, { rank: 0, worldSize: 1, outDir: '' })).toThrow(
      expect.objectContaining({ code: 'DATA_NO_BAD_WORDS' }),
    );
  });

  it('sentence mode counts each sentence once', async () => {
    const r = await run(c4Filter({ splitParagraph: false }), 'One two three. Four five six! Seven eight nine? Ten eleven twelve. Thirteen fourteen fifteen.');
    expect(isDrop(r)).toBe(false);
  });
});
