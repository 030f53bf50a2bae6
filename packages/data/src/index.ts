// @lmkit/data public API: readers, writers, token shards, the pipeline runner, and (from the quality side) filters, dedup, PII.

// Contracts
export { drop, isDrop, type Document, type Drop, type Step, type StepContext, type Deduplicator } from './types.js';
export { DataError } from './errors.js';

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
export { registerStep, registerDeduplicator, registeredTypes, createStep, createDeduplicator, type StepFactory, type DeduplicatorFactory } from './pipeline/registry.js';
export { runPipeline, resolvePipeline, mergeRun, isRunComplete, type RunOptions, type PipelineResult } from './pipeline/run.js';
export { runRank, documentKey, type RankOptions } from './pipeline/rank.js';
export { rankFromEnv, type RankInfo } from './pipeline/env.js';
export { mergeStats, type PipelineStats, type StepStats } from './pipeline/stats.js';
export { renderReport } from './pipeline/report.js';
