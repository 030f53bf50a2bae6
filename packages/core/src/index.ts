// @lmkit/core: the small foundation every lmkit package shares.

// Errors
export { LmkitError, isLmkitError, type LmkitErrorOptions } from './errors.js';

// Files
export { atomicWriteFile, atomicWriteStream, type AtomicWriteStream } from './atomic.js';

// Progress
export { createProgress, formatDuration, type Progress, type ProgressOptions, type ProgressMode } from './progress.js';
