// The media hot path in a worker's regime, paired: two servers (bench/lib/hotPathChild.ts) get the same
// real-time media from the same client at the same time — N streams each, 20 ms frames, the streams
// spread over the frame as independent carrier calls are — and their CPU per message is compared
// (A÷B). Run together, both see the same load on a shared machine, which sequential runs do not. Each
// side: `gateway` (scanner + session + VAD + DTMF), `session` (scanner + session) or `bare` (the
// floor's JSON path), behind plain `ws`
// or Fastify's websocket route, with extra node options (V8 flags) if asked; B may run another checkout's
// code (`--b-root dir`, a worktree of the base with this bench's lib/hotPathChild.ts copied in).
// `node bench/hotPath.ts --a gateway --b bare [--a-server fastify] [--a-args "--min-semi-space-size=16"] [--streams 300] [--seconds 15] [--rounds 3]`
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { FRAME_MS, FRAME_SAMPLES } from '../dsp/frame.ts';
import { encodeMulaw } from '../dsp/mulaw.ts';
import { callerAudio } from './lib/callerAudio.ts';
import { BenchChild } from './lib/children.ts';
import { sleep } from './lib/section.ts';
import { round } from './lib/stats.ts';

const CHILD = fileURLToPath(new URL('./lib/hotPathChild.ts', import.meta.url));
/** The pump's period: a frame's 20 ms holds 5 slots, each stream sends in one of them. */
const SLOT_MS = 4;
const SLOTS = FRAME_MS / SLOT_MS;
/** The carrier's stream id (one for all: the server's scanner keeps it as one string either way). */
const STREAM_SID = 'MZ0123456789abcdef0123456789abcdef';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    'a-server': { type: 'string' },
    'b-server': { type: 'string' },
    'a-args': { type: 'string' },
    'b-args': { type: 'string' },
    'b-root': { type: 'string' },
    streams: { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
  },
});
const streams = Number(values.streams ?? 300);
const seconds = Number(values.seconds ?? 15);
const rounds = Number(values.rounds ?? 3);
const sides = (['a', 'b'] as const).map((s) => ({
  label: `${s === 'b' && values['b-root'] ? `${values['b-root']}: ` : ''}${values[s] ?? 'gateway'} behind ${values[`${s}-server`] ?? 'ws'}${values[`${s}-args`] ? ` ${values[`${s}-args`]}` : ''}`,
  child: BenchChild.start(`hot-path-${s}`, s === 'b' && values['b-root'] ? `${values['b-root']}/bench/lib/hotPathChild.ts` : CHILD, { HOT_PATH: values[s] ?? 'gateway', HOT_PATH_SERVER: values[`${s}-server`] ?? 'ws' }, [], (values[`${s}-args`] ?? '').split(' ').filter((x) => x !== '')),
}));

try {
  const ports = await Promise.all(sides.map(async (s) => (await s.child.waitFor('ready', 60_000)).port as number));
  const sockets = await Promise.all(
    ports.map((port) =>
      Promise.all(
        Array.from({ length: streams }, async () => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
          await new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('error', reject);
          });
          return ws;
        }),
      ),
    ),
  );
  const mulaw = encodeMulaw(callerAudio(10_000).samples);
  const frames = Math.floor(mulaw.length / FRAME_SAMPLES);
  const payloads = Array.from({ length: frames }, (_, k) => Buffer.from(mulaw.subarray(k * FRAME_SAMPLES, (k + 1) * FRAME_SAMPLES)).toString('base64'));
  // A zero mask, as the load generator's (ws skips unmasking it on both sides).
  const mask = { mask: true, maskKey: Buffer.alloc(4) } as const;
  let slot = 0;
  const t0 = performance.now();
  const pump = setInterval(() => {
    const due = Math.floor((performance.now() - t0) / SLOT_MS);
    for (; slot < due; slot++) {
      const f = Math.floor(slot / SLOTS);
      const message = `{"event":"media","sequenceNumber":"${f + 2}","media":{"track":"inbound","chunk":"${f + 1}","timestamp":"${f * FRAME_MS}","payload":"${payloads[f % frames] as string}"},"streamSid":"${STREAM_SID}"}`;
      for (const side of sockets) for (let i = slot % SLOTS; i < streams; i += SLOTS) (side[i] as WebSocket).send(message, mask);
    }
  }, SLOT_MS);
  await sleep(5000); // JIT, the young generation's sizing
  process.stdout.write(`A = ${sides[0]?.label}\nB = ${sides[1]?.label}\n${streams} streams each, 50 messages/s per stream, ${seconds} s windows\n`);
  process.stdout.write('round | A µs/msg | B µs/msg | A÷B | GC pause share A/B | scavenges A/B | RSS MB A/B | load avg\n');
  const ratios: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    await Promise.all(sides.map((s) => s.child.request({ type: 'mark' }, 10_000)));
    await sleep(seconds * 1000);
    const [a, b] = (await Promise.all(sides.map((s) => s.child.request({ type: 'stats' }, 10_000)))) as Array<Record<string, number>>;
    if (a === undefined || b === undefined) throw new Error('a side did not answer');
    const ratio = (a.usPerMessage as number) / (b.usPerMessage as number);
    ratios.push(ratio);
    process.stdout.write(`${r} | ${round(a.usPerMessage as number, 2)} | ${round(b.usPerMessage as number, 2)} | ${round(ratio, 3)} | ${round(a.gcShare as number, 3)}/${round(b.gcShare as number, 3)} | ${a.scavenges}/${b.scavenges} | ${a.rssMb}/${b.rssMb} | ${round(loadavg()[0] ?? Number.NaN, 1)}\n`);
  }
  ratios.sort((x, y) => x - y);
  process.stdout.write(`A÷B median ${round(ratios[Math.floor(ratios.length / 2)] as number, 3)}\n`);
  clearInterval(pump);
  for (const ws of sockets.flat()) ws.terminate();
} finally {
  await Promise.all(sides.map((s) => s.child.stop(5000)));
}
