// `npm run sim`: the carrier simulator as a process, for demos and multi-process tests.
//
//   npm run sim -- [--port 4010] [--speed 1] [--scenario rules.json] [--deliver-to http://127.0.0.1:3000]
//                  [--account AC…:token] (default: TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN and the SIGNALWIRE_* pair)
//
// It prints one JSON line per dial and status change, so a demo shows the calls as they happen.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseScenario, type Scenario } from './behaviors.ts';
import { startSimulator } from './server.ts';

const USAGE = `usage: npm run sim -- [--port 4010] [--host 127.0.0.1] [--speed N] [--scenario FILE.json]
                      [--deliver-to http://127.0.0.1:3000] [--account SID:TOKEN ...]

Numbers answer by their last digit unless a scenario says otherwise:
  …1 busy · …2 no-answer · …3 failed · …4/…5 voicemail (greeting, beep, silence) · others a person.
Scenario file: {"rules": [{"match": "+14155550100", "kind": "human", "dtmf": "9@4000"}], "default": {"kind": "busy"}}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      speed: { type: 'string', default: '1' },
      scenario: { type: 'string' },
      'deliver-to': { type: 'string' },
      account: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  const speed = Number(values.speed);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: must be 0..65535 (got ${values.port})`);
  if (!(speed > 0 && speed <= 100)) throw new Error(`--speed: must be a number above 0, at most 100 (got ${values.speed})`);
  const accounts: Record<string, string> = {};
  for (const a of values.account ?? []) {
    const i = a.indexOf(':');
    if (i <= 0) throw new Error(`--account: write SID:TOKEN (got "${a}")`);
    accounts[a.slice(0, i)] = a.slice(i + 1);
  }
  const env = process.env;
  if (env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN) accounts[env.TWILIO_ACCOUNT_SID] ??= env.TWILIO_AUTH_TOKEN;
  if (env.SIGNALWIRE_PROJECT_ID && env.SIGNALWIRE_API_TOKEN) accounts[env.SIGNALWIRE_PROJECT_ID] ??= env.SIGNALWIRE_SIGNING_KEY ?? env.SIGNALWIRE_API_TOKEN;
  if (Object.keys(accounts).length === 0) throw new Error('no account: pass --account SID:TOKEN or set TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN');
  let scenario: Scenario | undefined;
  if (values.scenario) scenario = parseScenario(JSON.parse(await readFile(values.scenario, 'utf8')));
  const sim = await startSimulator({ accounts, speed, port, host: values.host, ...(scenario ? { scenario } : {}), ...(values['deliver-to'] ? { deliverTo: values['deliver-to'] } : {}) });
  console.log(JSON.stringify({ event: 'listening', baseUrl: sim.baseUrl, speed, accounts: Object.keys(accounts) }));
  let shown = 0;
  const seen = new Map<string, string>();
  const timer = setInterval(() => {
    for (; shown < sim.log.length; shown++) console.log(JSON.stringify({ event: 'dial', ...sim.log[shown] }));
    for (const c of sim.calls.values()) {
      if (seen.get(c.sid) !== c.status) {
        seen.set(c.sid, c.status);
        console.log(JSON.stringify({ event: 'status', sid: c.sid, to: c.to, status: c.status, ...(c.error ? { error: c.error } : {}) }));
      }
    }
  }, 200);
  const stop = (): void => {
    clearInterval(timer);
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  console.error(USAGE);
  process.exit(2);
});
