import { lmkitTsupConfig } from '../../tsup.shared';

export default lmkitTsupConfig();
