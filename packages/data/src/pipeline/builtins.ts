// Registers the built-in steps and de-duplicators of @lmkit/data under the type names configs use.
import { exactDeduplicator } from '../dedup/exact-dedup.js';
import { minhashDeduplicator } from '../dedup/minhash-dedup.js';
import { sentenceDeduplicator } from '../dedup/sentence-dedup.js';
import { c4Filter } from '../filters/c4.js';
import { finewebFilter } from '../filters/fineweb.js';
import { gopherQualityFilter } from '../filters/gopher-quality.js';
import { gopherRepetitionFilter } from '../filters/gopher-repetition.js';
import { htmlFilter } from '../filters/html.js';
import { keywordFilter } from '../filters/keyword.js';
import { languageFilter } from '../filters/language.js';
import { ratioFilter } from '../filters/ratios.js';
import { urlFilter } from '../filters/url.js';
import { piiRedactor } from '../pii/redact.js';
import { registerDeduplicator, registerStep } from './registry.js';

// NOTE: options come from JSON/YAML configs; each factory validates its own fields.
type Options<F> = F extends (options: infer O) => unknown ? O : never;
const as = <F>(o: Record<string, unknown>): Options<F> => o as Options<F>;

registerStep('language', (o) => languageFilter(as<typeof languageFilter>(o)));
registerStep('gopher_repetition', (o) => gopherRepetitionFilter(as<typeof gopherRepetitionFilter>(o)));
registerStep('gopher_quality', (o) => gopherQualityFilter(as<typeof gopherQualityFilter>(o)));
registerStep('c4', (o) => c4Filter(as<typeof c4Filter>(o)));
registerStep('fineweb', (o) => finewebFilter(as<typeof finewebFilter>(o)));
registerStep('html', (o) => htmlFilter(as<typeof htmlFilter>(o)));
registerStep('keyword', (o) => keywordFilter(as<typeof keywordFilter>(o)));
registerStep('ratios', (o) => ratioFilter(as<typeof ratioFilter>(o)));
registerStep('url', (o) => urlFilter(as<typeof urlFilter>(o)));
registerStep('pii', (o) => piiRedactor(as<typeof piiRedactor>(o)));

registerDeduplicator('exact', (o) => exactDeduplicator(as<typeof exactDeduplicator>(o)));
registerDeduplicator('minhash', (o) => minhashDeduplicator(as<typeof minhashDeduplicator>(o)));
registerDeduplicator('sentence_dedup', (o) => sentenceDeduplicator(as<typeof sentenceDeduplicator>(o)));
