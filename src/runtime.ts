// The composition root: turns a Config into the running parts (database, event log, secrets, call
// program, carrier clients) the app is built from, and closes them in order.
import type { Logger } from 'pino';
import type { AppDeps } from './app.ts';
import type { Config } from './config.ts';
import { greetingProgram, loadGreeting } from './gateway/greetingProgram.ts';
import { loadOrCreateSecret } from './secrets.ts';
import { CallStore } from './store/calls.ts';
import { openDatabase } from './store/db.ts';
import { EventLog } from './store/eventLog.ts';

export interface Runtime {
  appDeps: Omit<AppDeps, 'logger'>;
  /** Where the generated API key was stored (undefined when API_KEY is set). */
  apiKeyFile: string | undefined;
  close(): Promise<void>;
}

export async function createRuntime(config: Config, log: Logger): Promise<Runtime> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  const eventLog = new EventLog({ db: db.pool, log, maxBuffered: config.eventBufferMax });
  const calls = new CallStore(db.pool);
  let apiKey = config.apiKey;
  let apiKeyFile: string | undefined;
  if (apiKey === undefined) {
    const stored = await loadOrCreateSecret(config.dataDir, 'api-key', 24);
    apiKey = stored.value;
    apiKeyFile = stored.path;
    if (stored.created) log.info({ apiKeyFile }, 'created a REST API key (set API_KEY to choose your own)');
  }
  const streamTokenSecret = config.streamTokenSecret ?? (await loadOrCreateSecret(config.dataDir, 'stream-token-secret')).value;
  const greeting = await loadGreeting(config.greetingFile);
  return {
    appDeps: { config, db, calls, eventLog, apiKey, streamTokenSecret, program: greetingProgram(greeting) },
    apiKeyFile,
    close: async () => {
      await eventLog.close();
      await db.close();
    },
  };
}
