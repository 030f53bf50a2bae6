// @lmkit/train public API: objectives, AdamW, LR schedules, mixed precision, token-shard loading, checkpoints and the Trainer.

// Errors
export { TrainError } from './errors.js';

// Randomness
export { SeededRng, type RngState } from './rng.js';

// Learning-rate schedules
export { createSchedule, learningRateAt, resolveScheduleOptions, type LrSchedule, type ScheduleKind, type ScheduleOptions } from './schedule/lr-schedule.js';

// Optimizer and clipping
export { AdamW, decaysByRank, type AdamWOptions, type AdamWState, type OptimParam } from './optim/adamw.js';
export { clipGradNorm, globalGradNorm } from './optim/clip-grad-norm.js';

// Mixed precision
export {
  roundToFormat, roundArrayToFormat, numberToBf16Bits, numberToF16Bits, bf16BitsToNumber, f16BitsToNumber, FORMAT_EPSILON, type HalfFormat,
} from './precision/float-formats.js';
export { LossScaler, type LossScalerOptions, type LossScalerState } from './precision/loss-scaler.js';

// Objectives
export { IGNORE_INDEX, countTargets, type Objective, type ObjectiveBatch } from './objectives/objective.js';
export { causalLm } from './objectives/causal-lm.js';
export { maskedLm, type MaskedLmOptions } from './objectives/masked-lm.js';
export { spanCorruption, randomSpanLayout, spanCounts, type SpanCorruptionOptions, type SpanLayout } from './objectives/span-corruption.js';

// Token data
export { openTokenDataset, readTokenShard, type TokenArray, type TokenDataset, type TokenDatasetOptions, type TokenRun } from './data/token-dataset.js';
export { WindowSampler, validationWindows, type SamplerState } from './data/window-sampler.js';

// Metrics and report
export { MetricsLog, readMetricsText, type MetricsRecord } from './metrics/metrics-log.js';
export { renderReport, type ReportInput } from './metrics/html-report.js';
export { svgLineChart, type ChartSeries, type ChartOptions } from './metrics/svg-chart.js';
export { estimateMfu, WASM_SIMD_PEAK_FLOPS_PER_CORE } from './metrics/mfu.js';

// Checkpoints
export { saveCheckpoint, loadCheckpoint, CHECKPOINT_FILES, type CheckpointContent, type LoadedCheckpoint, type TrainerState } from './checkpoint/checkpoint.js';

// Training
export type { TrainableModel, TrainableParam, BackwardOptions } from './trainable-model.js';
export { train, type TrainerOptions, type TrainResult, type Precision } from './trainer.js';
export { fromLmkitModel } from './lmkit-model.js';

// Runs from a config file
export {
  validateRunConfig, modelConfigFor, createRunModel, seqLenFor, objectiveFor, extraTokensFor, type RunConfig, type ObjectiveName,
} from './run-config.js';
export { runTraining, type RunTrainingOptions, type RunTrainingResult } from './run.js';

// Parallelism: communicators (threads, tcp), launch environment, strategies (DDP, ZeRO 1-3, pipeline, tensor parallel with vocab-parallel embedding and loss, 3D)
export { CommError, chunkRange, type Communicator, type CommErrorCode, type FloatArray, type ReduceOp, type BackendName } from './parallel/communicator.js';
export { createThreadGroup, abortThreadGroup, threadsCommunicator, runInProcess, spawnThreads, joinThreadGroup, type ThreadGroup, type ThreadGroupOptions } from './parallel/comm/threads.js';
export { tcpCommunicator, type TcpOptions } from './parallel/comm/tcp.js';
export { resolveDistEnv, firstSlurmHost, type DistEnv } from './parallel/comm/env.js';
export { runConformance } from './parallel/comm/conformance.js';
export { type ParallelStrategy, type MemoryReport, type StepResult } from './parallel/strategy.js';
export { dataParallel, allReduceGradients, gradientBuckets, type DataParallelOptions } from './parallel/data-parallel.js';
export { dataParallelDecoder, type OverlappedDataParallel } from './parallel/data-parallel-overlap.js';
export { zero, type ZeroOptions } from './parallel/zero.js';
export { fullyShardedDecoder, type FullyShardedOptions } from './parallel/zero3.js';
export { pipelineSchedule, simulateSchedule, measuredBubble, stageOpCosts, type OpCost, type PipeOp, type ScheduleKind as PipelineScheduleKind, type ScheduleSimulation } from './parallel/pipeline-schedule.js';
export { pipelineParallel, stageRanges, type PipelineOptions, type PipelineStrategy, type StagePartition } from './parallel/pipeline.js';
export { tensorParallel, type TensorParallelOptions, type TensorParallelStrategy } from './parallel/tensor-parallel.js';
export { vocabRange, vocabParallelLookup, vocabParallelCrossEntropy, type VocabParallelLoss, type VocabParallelLossOptions } from './parallel/vocab-parallel.js';
export { megatronStage, type MegatronStageOptions } from './parallel/megatron-stage.js';
export { denseStage, type ModelStage, type StageMicro, type StageParam, type DenseStageOptions } from './parallel/model-stage.js';
export { parseParallelSpec, worldSizeOf, type ParallelSpec } from './parallel/parallel-spec.js';
export { createStrategy, runParallelTraining, type StrategyOptions, type ParallelTrainingOptions, type ParallelTrainingResult } from './parallel/parallel-training.js';
export type { FullTrainingState } from './parallel/strategy.js';
export type { ParallelStepRecord } from './parallel/parallel-training.js';
export { runParallelThreads, threadRankMain, type ParallelThreadsOptions, type ThreadRankResult } from './parallel/parallel-threads.js';
export { launchProcesses, type LaunchOptions, type LaunchResult } from './parallel/launch.js';
