// Listen-in: a live call's two channels streamed to one browser as they happen. The body is a
// sequence of records `[channel: 1 byte (0 caller, 1 gateway)][length: 2 bytes BE][8 kHz mu-law]`;
// the page decodes and plays them with the Web Audio API. The two channels go in lockstep on the
// call's media clock: for each frame of caller audio, the gateway audio the caller hears over the same
// span (CallSession.readOutbound: prompts and agent speech as the carrier plays them, including what
// was sent before the listener joined; silence where nothing plays). Audio is copied only here, into a
// listener's records, and only while someone listens. The tap returns at once: a slow listener loses
// audio (records dropped past a small buffer), never the call its real time.
import type { FastifyReply } from 'fastify';
import type { CallSession } from '../call/CallSession.ts';

const MAX_BUFFERED_BYTES = 64 * 1024;
const SAMPLES_PER_MS = 8;

/** Streams `session`'s audio to `reply` until the call ends or the listener goes. */
export function streamListenIn(session: CallSession, reply: FastifyReply): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  const onCaller = (mulaw: Uint8Array, atMs: number): void => {
    if (res.destroyed || res.writableLength > MAX_BUFFERED_BYTES) return;
    const record = Buffer.allocUnsafe(2 * (3 + mulaw.length));
    record[0] = 0;
    record.writeUInt16BE(mulaw.length, 1);
    record.set(mulaw, 3);
    const gateway = record.subarray(3 + mulaw.length);
    gateway[0] = 1;
    gateway.writeUInt16BE(mulaw.length, 1);
    // `atMs` is the frame's end: the gateway channel covers the same span.
    session.readOutbound(atMs - mulaw.length / SAMPLES_PER_MS, gateway.subarray(3));
    res.write(record);
  };
  const stopCaller = session.addMediaConsumer(onCaller);
  const finish = (): void => {
    stopCaller();
    session.signal.removeEventListener('abort', finish);
    if (!res.destroyed) res.end();
  };
  session.signal.addEventListener('abort', finish, { once: true });
  res.once('close', finish);
}
