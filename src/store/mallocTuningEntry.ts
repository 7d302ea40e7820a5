// Imported first by src/main.ts, so that the re-execution (see mallocTuning.ts) happens before any
// other module of the gateway is evaluated.
import { reexecWithMallocTuning } from './mallocTuning.ts';

reexecWithMallocTuning();
