// The media route's fast lane (src/gateway/fastTextFrames.ts) must be invisible: for any bytes a
// client sends, split into reads anywhere, a `ws` server with the lane delivers the same messages in
// the same order, answers with the same bytes (pongs, close frames and codes) and closes the same way
// as `ws` alone — and the lane takes the plain media frames itself. Each case runs both servers on a
// duplex pair, so the read boundaries are exactly the ones the case chooses.
import { duplexPair } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { attachFastTextFrames } from '../../src/gateway/fastTextFrames.ts';

const MAX_PAYLOAD = 1024;
const KEY = randomBytes(16).toString('base64');

interface Frame {
  fin?: boolean;
  rsv?: number;
  opcode: number;
  payload: Buffer | string;
  /** A 4-byte mask; null sends the frame unmasked (a protocol error from a client). */
  mask?: Buffer | null;
  /** Spell the length in the 64-bit form whatever it is. */
  long?: boolean;
}

function frame(f: Frame): Buffer {
  const payload = Buffer.from(f.payload);
  const mask = f.mask === undefined ? randomBytes(4) : f.mask;
  const len = payload.length;
  const head = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
  const m = mask === null ? 0 : 0x80;
  if (f.long) head.push(m | 127, 0, 0, 0, 0, (len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255);
  else if (len < 126) head.push(m | len);
  else head.push(m | 126, len >> 8, len & 255);
  const body = mask === null ? payload : payload.map((b, i) => b ^ (mask[i & 3] as number));
  return Buffer.concat([Buffer.from(head), mask === null ? Buffer.alloc(0) : mask, body]);
}

const text = (s: string | Buffer, extra: Partial<Frame> = {}): Buffer => frame({ opcode: 1, payload: s, ...extra });
/** What the test's lane takes: what the media scanner would, a printable-ASCII message ("M…" here). */
const takesIt = (p: Buffer): boolean => p[0] === 0x4d && p.every((b) => b >= 0x20 && b <= 0x7e);

interface Outcome {
  /** Messages in the order the application saw them, from the lane or from `ws`. */
  log: string[];
  /** Everything the server wrote back after the handshake (pongs, close frames). */
  wrote: string;
  takenByLane: number;
}

/** One server (with or without the lane) fed `reads` one read each; settles, then reports. */
async function serve(reads: Buffer[], lane: boolean): Promise<Outcome> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });
  const [server, client] = duplexPair();
  const out: Buffer[] = [];
  client.on('data', (b: Buffer) => out.push(b));
  const log: string[] = [];
  let takenByLane = 0;
  const req = { method: 'GET', headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' } } as unknown as IncomingMessage;
  await new Promise<void>((resolve) => {
    wss.handleUpgrade(req, server, Buffer.alloc(0), (ws: WebSocket) => {
      if (lane) {
        const attached = attachFastTextFrames(
          ws,
          (p) => {
            if (!takesIt(p)) return false;
            takenByLane++;
            log.push(`text:${p.toString()}`);
            return true;
          },
          MAX_PAYLOAD,
        );
        expect(attached).toBe(true);
      }
      ws.on('message', (data: Buffer, isBinary) => log.push(`${isBinary ? 'binary' : 'text'}:${data.toString()}`));
      ws.on('ping', (data: Buffer) => log.push(`ping:${data.toString()}`));
      ws.on('error', (err: Error & { code?: string }) => log.push(`error:${err.code ?? err.message}`));
      ws.on('close', (code: number) => log.push(`close:${code}`));
      resolve();
    });
  });
  for (const r of reads) {
    client.write(Buffer.from(r)); // ws unmasks in place: each server gets its own copy
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (let k = 0; k < 5; k++) await new Promise((resolve) => setImmediate(resolve)); // ws reports errors a tick later
  const wrote = Buffer.concat(out).toString('latin1');
  const settled = [...log]; // before the teardown below closes the socket
  client.destroy();
  server.destroy();
  wss.close();
  return { log: settled, wrote: wrote.slice(wrote.indexOf('\r\n\r\n') + 4), takenByLane };
}

/** Both servers on the same reads: same messages, same answers; returns the lane's outcome. */
async function same(reads: Buffer[]): Promise<Outcome> {
  const plain = await serve(reads, false);
  const withLane = await serve(reads, true);
  expect(withLane.log).toEqual(plain.log);
  expect(Buffer.from(withLane.wrote, 'latin1').toString('hex')).toBe(Buffer.from(plain.wrote, 'latin1').toString('hex'));
  return withLane;
}

/** `bytes` cut into reads at the given offsets. */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const edges = [0, ...at, bytes.length];
  return edges.slice(1).map((e, k) => bytes.subarray(edges[k], e));
}

const MEDIA = ['M{"event":"media","n":1}', 'M{"event":"media","n":2}', 'M{"event":"media","n":3}'];

describe('fast text-frame lane', () => {
  it('takes plain media frames itself, one read each or many frames in one read', async () => {
    const own = await same(MEDIA.map((m) => text(m)));
    expect(own.log).toEqual(MEDIA.map((m) => `text:${m}`));
    expect(own.takenByLane).toBe(3);
    const together = await same([Buffer.concat(MEDIA.map((m) => text(m)))]);
    expect(together.takenByLane).toBe(3);
  });

  it('delivers what it declines through ws, in order with what it takes (other text, binary, 16-bit lengths)', async () => {
    const big = `M${'x'.repeat(300)}`;
    const r = await same([Buffer.concat([text(MEDIA[0] as string), text('{"event":"mark"}'), frame({ opcode: 2, payload: 'bin' }), text(big), text(MEDIA[1] as string)])]);
    expect(r.log).toEqual([`text:${MEDIA[0]}`, 'text:{"event":"mark"}', 'binary:bin', `text:${big}`, `text:${MEDIA[1]}`]);
    expect(r.takenByLane).toBe(3);
  });

  it('gives the same result wherever the reads split the stream, down to single bytes', async () => {
    const bytes = Buffer.concat([
      text(MEDIA[0] as string),
      text(`M${'y'.repeat(200)}`),
      frame({ opcode: 9, payload: 'p' }),
      text('other'),
      text(MEDIA[1] as string, { long: true }),
      text(MEDIA[2] as string),
    ]);
    for (let at = 1; at < bytes.length; at++) await same(cut(bytes, [at]));
    await same(cut(bytes, Array.from({ length: bytes.length - 1 }, (_, k) => k + 1)));
  });

  it('leaves fragmented messages and the pings between their fragments to ws', async () => {
    const r = await same([
      Buffer.concat([
        text('Mab', { fin: false }),
        frame({ opcode: 9, payload: 'hi' }),
        frame({ opcode: 0, payload: 'cd', fin: false }),
        frame({ opcode: 0, payload: 'ef' }),
        text(MEDIA[0] as string),
      ]),
    ]);
    expect(r.log).toEqual(['ping:hi', 'text:Mabcdef', `text:${MEDIA[0]}`]);
    expect(r.wrote).toContain('hi'); // the pong
    expect(r.takenByLane).toBe(1);
  });

  it('closes exactly as ws does on protocol errors, and takes nothing after one in the same read', async () => {
    const after = text(MEDIA[0] as string);
    const cases: Array<[string, Buffer, number]> = [
      ['invalid UTF-8', text(Buffer.from([0x4d, 0xff, 0xfe])), 1007],
      ['unmasked client frame', text(MEDIA[1] as string, { mask: null }), 1002],
      ['RSV1 without an extension', text(MEDIA[1] as string, { rsv: 4 }), 1002],
      ['continuation without a start', frame({ opcode: 0, payload: 'x' }), 1002],
      ['unknown opcode', frame({ opcode: 3, payload: 'x' }), 1002],
      ['larger than maxPayload', text(`M${'z'.repeat(MAX_PAYLOAD)}`), 1009],
    ];
    for (const [name, bad, code] of cases) {
      const r = await same([Buffer.concat([text(MEDIA[2] as string), bad, after])]);
      expect(r.log[0], name).toBe(`text:${MEDIA[2]}`);
      expect(r.log, name).not.toContain(`text:${MEDIA[0]}`);
      expect(r.wrote.slice(0, 4), name).toBe(Buffer.from([0x88, 2, code >> 8, code & 255]).toString('latin1')); // close, the code, no reason
      const r2 = await same([text(MEDIA[2] as string), bad, after]);
      expect(r2.log, `${name}, separate reads`).not.toContain(`text:${MEDIA[0]}`);
    }
  });

  it('completes the close handshake and takes nothing after the client closes', async () => {
    const close = frame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) });
    const r = await same([Buffer.concat([text(MEDIA[0] as string), close, text(MEDIA[1] as string)])]);
    expect(r.log).toEqual([`text:${MEDIA[0]}`]);
    expect(r.wrote).toBe('\x88\x02\x03\xe8'); // the server's close, echoing 1000; it then waits for the socket to close
  });

  it('is not attached to a socket that already reads elsewhere, leaving ws as it was', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const [server, client] = duplexPair();
    const req = { method: 'GET', headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' } } as unknown as IncomingMessage;
    const got: string[] = [];
    await new Promise<void>((resolve) =>
      wss.handleUpgrade(req, server, Buffer.alloc(0), (ws) => {
        server.on('data', () => undefined); // a second reader: the lane cannot be sure it replaces ws's
        expect(attachFastTextFrames(ws, () => true, MAX_PAYLOAD)).toBe(false);
        ws.on('message', (d: Buffer) => got.push(d.toString()));
        resolve();
      }),
    );
    client.write(text(MEDIA[0] as string));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(got).toEqual([MEDIA[0]]);
    client.destroy();
    server.destroy();
    wss.close();
  });
});
