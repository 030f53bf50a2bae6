// vitest settings for the docs: the guides' code blocks run with @lmkit/* resolving to each package's source.
import { lmkitVitestConfig } from '../vitest.shared';

export default lmkitVitestConfig();
