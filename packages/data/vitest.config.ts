import { lmkitVitestConfig } from '../../vitest.shared';

export default lmkitVitestConfig();
