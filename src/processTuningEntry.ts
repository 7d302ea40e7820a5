// Imported first by src/main.ts, so that the re-execution (see processTuning.ts) happens before any
// other module of the gateway is evaluated.
import { reexecWithTuning } from './processTuning.ts';

reexecWithTuning();
