// The inbound media scanner alone, hot, on Twilio media messages: ns per message, best and median of 15
// passes; with `--b-root dir` another checkout's scanner is timed in the same process, pass by pass
// alternated with this tree's, and both are checked to give the same result for every message.
// `node bench/lib/scanMicro.ts [--b-root dir]`
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { MediaScanner } from '../../src/telephony/mediaScan.ts';
import { twilioCarrierDialect } from '../../src/telephony/twilio.ts';

interface Scanner {
  scan(bytes: Uint8Array): { payload: Uint8Array; chunk: number; timestampMs: number; streamId: string | undefined; sequenceNumber: number | undefined; track: string } | undefined;
}

const { values } = parseArgs({ options: { 'b-root': { type: 'string' } } });
const STREAM_SID = 'MZ0123456789abcdef0123456789abcdef';
const messages: Buffer[] = [];
for (let k = 0; k < 1500; k++) {
  const payload = Buffer.alloc(160);
  for (let i = 0; i < 160; i++) payload[i] = (k * 7 + i * 13) & 255;
  messages.push(Buffer.from(twilioCarrierDialect.media(k + 2, STREAM_SID, { track: 'inbound', chunk: k + 1, timestampMs: k * 20, payloadBase64: payload.toString('base64') })));
}

/** ns per message of one pass of 40 × every message (this thread's CPU). */
function pass(s: Scanner): number {
  const c0 = process.threadCpuUsage();
  for (let r = 0; r < 40; r++) for (const m of messages) s.scan(m);
  const c = process.threadCpuUsage(c0);
  return ((c.user + c.system) * 1000) / (40 * messages.length);
}

const sides: Array<{ name: string; scanner: Scanner; runs: number[] }> = [{ name: 'this tree', scanner: new MediaScanner(), runs: [] }];
if (values['b-root'] !== undefined) {
  const other = (await import(pathToFileURL(join(values['b-root'], 'src/telephony/mediaScan.ts')).href)) as { MediaScanner: new () => Scanner };
  sides.push({ name: values['b-root'], scanner: new other.MediaScanner(), runs: [] });
  const [a, b] = [sides[0]?.scanner as Scanner, sides[1]?.scanner as Scanner];
  for (const m of messages) {
    const x = a.scan(m);
    const y = b.scan(m);
    const same = x !== undefined && y !== undefined && Buffer.compare(x.payload, y.payload) === 0 && x.chunk === y.chunk && x.timestampMs === y.timestampMs && x.streamId === y.streamId && x.sequenceNumber === y.sequenceNumber && x.track === y.track;
    if (!same) throw new Error('the two scanners read a message differently');
  }
}
for (let round = 0; round < 15; round++) for (const side of round % 2 === 0 ? sides : [...sides].reverse()) side.runs.push(pass(side.scanner));
for (const side of sides) {
  const runs = side.runs.sort((x, y) => x - y);
  process.stdout.write(`${side.name.padEnd(40)} best ${Math.round(runs[0] as number)} ns, median ${Math.round(runs[7] as number)} ns per message\n`);
}
