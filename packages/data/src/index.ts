// @lmkit/data public API: readers, writers, token shards, the pipeline runner, and (from the quality side) filters, dedup, PII.

// Contracts
export { drop, isDrop, type Document, type Drop, type Step, type StepContext, type Deduplicator } from './types.js';
export { DataError } from './errors.js';

// Filters (each a Step with the published thresholds as defaults)
export { languageFilter, loadLanguageModel, predictLanguage, type LanguageOptions, type LanguagePrediction } from './filters/language.js';
export { gopherQualityFilter, GOPHER_STOP_WORDS, type GopherQualityOptions } from './filters/gopher-quality.js';
export { gopherRepetitionFilter, findDuplicates, topNGramChars, duplicateNGramChars, type GopherRepetitionOptions } from './filters/gopher-repetition.js';
export { c4Filter, type C4Options } from './filters/c4.js';
export { compileBadWords, loadBadWords, type BadWords } from './filters/bad-words.js';
export { finewebFilter, TERMINAL_PUNCTUATION, type FineWebOptions } from './filters/fineweb.js';
export { htmlFilter, markupCharRatio, type HtmlOptions } from './filters/html.js';
export { keywordFilter, type KeywordOptions } from './filters/keyword.js';
export { ratioFilter, textRatios, type RatioOptions, type TextRatios } from './filters/ratios.js';
export { urlFilter, urlDomain, type UrlOptions } from './filters/url.js';
export { perplexityFilter, perplexityBucket, calibratePerplexity, percentile, type PerplexityOptions, type PerplexityBucket } from './filters/perplexity.js';
export { NGramLM, lmTokens, type NGramOptions } from './filters/ngram-lm.js';
export { qualityClassifierFilter, QualityClassifier, hashedFeatures, type ClassifierOptions, type QualityClassifierOptions } from './filters/quality-classifier.js';

// Step tables by config name, and the default `clean` pipeline
export {
  stepFactories,
  dedupFactories,
  createStep,
  createDeduplicator,
  DEFAULT_CLEAN_STEPS,
  DEFAULT_CLEAN_DEDUP,
  type StepOptionsByName,
  type DedupOptionsByName,
} from './steps.js';

// De-duplication (Deduplicator implementations and their building blocks)
export { exactDeduplicator, type ExactDedupOptions } from './dedup/exact-dedup.js';
export { minhashDeduplicator, type MinHashDedupOptions } from './dedup/minhash-dedup.js';
export { MinHasher, collisionProbability, permutationParameters, type MinHashOptions } from './dedup/minhasher.js';
export { sentenceDeduplicator, keepSentences, type SentenceDedupOptions, type SpanDeduplicator } from './dedup/sentence-dedup.js';
export { runDeduplicator, type KeyedShard, type DedupRunResult } from './dedup/run-dedup.js';
export { UnionFind } from './dedup/union-find.js';

// PII
export { piiRedactor, redactPii, detectPii, PII_TYPES, type PiiOptions, type RedactMode } from './pii/redact.js';
export type { PiiType, PiiMatch, PiiDetector } from './pii/match.js';
export { findEmails } from './pii/email.js';
export { findPhones } from './pii/phone.js';
export { findIPv4, findIPv6, isPublicIPv4, isPublicIPv6 } from './pii/ip.js';
export { findCreditCards, luhnValid } from './pii/credit-card.js';
export { findIbans, ibanValid } from './pii/iban.js';
export { findAddresses } from './pii/address.js';
export { findNames } from './pii/names.js';

// Text utilities
export { splitWords, splitLines, wordIds } from './text/words.js';
export { splitSentences, type Span } from './text/sentences.js';
export { normalizeForDedup, normalizeLine, type NormalizeOptions } from './text/normalize.js';
export { xxh64, loadXxhash } from './text/hash.js';

// Conversations and mixing
export { buildDialogues, dialogueToDocument, type Message, type DialogueOptions, type DialogueFormat } from './conversations.js';
export { mixSources, type MixSource, type MixOptions, type MixSourceReport, type MixReport, type Mix } from './mix.js';

// Readers
export type { ReadItem, ReadDoc, BadRecord, ReaderOptions } from './readers/record.js';
export { readDocuments, formatOf, isSplittable, type InputFormat } from './readers/formats.js';
export { readJsonl, recordToDocument } from './readers/jsonl.js';
export { readText } from './readers/text.js';
export { readParquet } from './readers/parquet.js';
export { readHtml, htmlTitle } from './readers/html.js';
export { htmlToText, decodeEntities, type HtmlToTextOptions } from './readers/html-text.js';
export { readWarc, parseWarc, type WarcRecord } from './readers/warc.js';
export { planSlices, byteRange, type InputSlice } from './readers/byte-range.js';

// Writers
export { JsonlShardWriter, documentToJsonLine, type JsonlShardWriterOptions } from './writers/jsonl.js';
export { canWriteZstd, compressionSuffix, type OutputCompression } from './writers/compression.js';
export { excludedDocument, excludedBadRecord, type ExclusionRecord } from './writers/exclusion.js';

// Token shards
export {
  SHARD_HEADER_BYTES,
  SHARD_MAGIC_U16,
  SHARD_MAGIC_U32,
  SHARD_VERSION_U16,
  SHARD_VERSION_U32,
  dtypeForVocab,
  encodeShardHeader,
  decodeShardHeader,
  type ShardHeader,
  type TokenDtype,
} from './shards/format.js';
export { TokenShardWriter, type TokenShardWriterOptions } from './shards/writer.js';
export { openTokenShard, type TokenShard } from './shards/reader.js';
export { pretokenize, type TokenEncoder, type PretokenizeOptions, type PretokenizeResult } from './shards/pretokenize.js';

// Pipeline
export { loadPipelineConfig, validatePipelineConfig, type PipelineConfig, type StepSpec } from './pipeline/config.js';
export { registerStep, registerDeduplicator, registeredTypes, type StepFactory, type DeduplicatorFactory } from './pipeline/registry.js';
export { runPipeline, resolvePipeline, mergeRun, isRunComplete, type RunOptions, type PipelineResult } from './pipeline/run.js';
export { runRank, documentKey, type RankOptions } from './pipeline/rank.js';
export { rankFromEnv, type RankInfo } from './pipeline/env.js';
export { mergeStats, type PipelineStats, type StepStats } from './pipeline/stats.js';
export { renderReport } from './pipeline/report.js';
