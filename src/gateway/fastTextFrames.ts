// A fast lane in front of `ws`'s Receiver for one server-side socket. A media stream is 50 small text
// frames a second per call, each its own socket read; `ws` pushes every read through a Writable stream
// (its Receiver), buffers it, unmasks it, checks its UTF-8 and emits it twice (Receiver, then
// WebSocket) before our handler sees it — about 2 µs of the ~17 µs a bare `ws` server spends per
// message (bench/lib/frameLane.ts measures both). This lane reads the frame headers of the socket's
// bytes itself and hands the common frame — complete in the read, final, unfragmented, masked, a text
// frame without RSV bits, at most `maxFastBytes` — unmasked to `onText`, which either takes it or
// declines it.
//
// Conformance stays `ws`'s: every byte the lane does not take (control frames, fragments, binary
// frames, frames split across reads, large frames, anything after a close, anything `onText` declines)
// goes, untouched and in order, to `ws`'s own Receiver at a frame boundary, which applies RFC 6455
// (masking, ping/pong, close handshake and codes, maxPayload → 1009, invalid frames → 1002, UTF-8 →
// 1007) exactly as it does without the lane. `onText` must take only what `ws` would have delivered
// as that message: the media scanner takes only printable-ASCII JSON, which is valid UTF-8.
//
// It relies on two internals of the pinned `ws` 8: the WebSocket's `_receiver` (a Writable fed by the
// socket's one 'data' listener, which the lane replaces) and its `_socket`. When they are not as
// expected, the lane is not attached and `ws` receives everything as before.
import { endianness } from 'node:os';
import type { Duplex, Writable } from 'node:stream';
import type { WebSocket } from 'ws';

/** `onText` answers: true when it took the message (it is not delivered again), false to let `ws` deliver it. */
export type FastTextHandler = (payload: Buffer) => boolean;

interface WsInternals {
  readyState: number;
  _receiver?: Writable;
  _socket?: Duplex;
}

const OPEN = 1;
const FIN_TEXT = 0x81; // FIN set, RSV clear, opcode 1 (text)
const MASKED = 0x80;
const MAX_HEADER_BYTES = 14; // 2 + 8 (64-bit length) + 4 (mask)
const LITTLE_ENDIAN = endianness() === 'LE';

/** Bytes of a frame's header given its second byte (mask bit and 7-bit length). */
function headerBytes(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & MASKED) !== 0 ? 4 : 0);
}

/** Payload length from a complete header (a 64-bit length past 2^53 reads as huge: `ws` refuses it). */
function payloadBytes(h: Uint8Array, at: number): number {
  const len7 = (h[at + 1] as number) & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return ((h[at + 2] as number) << 8) | (h[at + 3] as number);
  let v = 0;
  for (let k = 2; k < 10; k++) v = v * 256 + (h[at + k] as number);
  return v;
}

class FastTextLane {
  /** Bytes of the frame being forwarded to `ws` still to come (0: at a frame boundary). */
  private remaining = 0;
  /** A header split across reads: its bytes so far (already forwarded: such a frame is `ws`'s). */
  private readonly header = new Uint8Array(MAX_HEADER_BYTES);
  private headerFill = 0;
  /** A fragmented data message is open in `ws`'s Receiver: its frames and everything between are `ws`'s. */
  private fragmented = false;
  /** Unmasked payload of the frame being handed to onText (reused; grows up to maxFastBytes), its 32-bit words, and the last view of it. */
  private scratch = Buffer.alloc(512);
  private words = new Uint32Array(this.scratch.buffer, this.scratch.byteOffset, 128);
  private view = this.scratch.subarray(0, 0);

  private readonly ws: WsInternals;
  private readonly receiver: Writable;
  private readonly socket: Duplex;
  private readonly onText: FastTextHandler;
  private readonly maxFastBytes: number;

  constructor(ws: WsInternals, receiver: Writable, socket: Duplex, onText: FastTextHandler, maxFastBytes: number) {
    this.ws = ws;
    this.receiver = receiver;
    this.socket = socket;
    this.onText = onText;
    this.maxFastBytes = maxFastBytes;
  }

  readonly onData = (chunk: Buffer): void => {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        this.forward(chunk, i, i + take);
        i += take;
      } else if (this.headerFill > 0) {
        i = this.continueHeader(chunk, i);
      } else {
        i = this.frameAt(chunk, i);
      }
    }
  };

  /** A frame starting at `i`: taken by the fast lane when it can be, else forwarded. Returns where the next one starts. */
  private frameAt(chunk: Buffer, i: number): number {
    const n = chunk.length;
    const b1 = chunk[i + 1];
    if (b1 === undefined || n - i < headerBytes(b1)) {
      // A header split across reads: keep its bytes to learn the frame's length, and forward them.
      this.header.set(chunk.subarray(i, n));
      this.headerFill = n - i;
      this.forward(chunk, i, n);
      return n;
    }
    const h = headerBytes(b1);
    const len = payloadBytes(chunk, i);
    const end = i + h + len;
    const b0 = chunk[i] as number;
    if (b0 === FIN_TEXT && (b1 & MASKED) !== 0 && len <= this.maxFastBytes && end <= n && this.receiverIdle()) {
      if (this.onText(this.unmask(chunk, i + h - 4, len))) return end;
    }
    this.noteFrame(b0);
    const stop = Math.min(end, n);
    this.remaining = end - stop;
    this.forward(chunk, i, stop);
    return stop;
  }

  /** More bytes of a split header; once whole, the rest of its frame is forwarded like any other. */
  private continueHeader(chunk: Buffer, i: number): number {
    const have = this.headerFill;
    const need = have >= 2 ? headerBytes(this.header[1] as number) : 2;
    const take = Math.min(need - have, chunk.length - i);
    this.header.set(chunk.subarray(i, i + take), have);
    this.headerFill = have + take;
    this.forward(chunk, i, i + take);
    if (this.headerFill === need) {
      if (need === 2 && headerBytes(this.header[1] as number) > 2) return i + take; // the length or mask follows
      this.headerFill = 0;
      this.noteFrame(this.header[0] as number);
      this.remaining = payloadBytes(this.header, 0);
    }
    return i + take;
  }

  /**
   * `ws` would deliver a frame at this boundary now, as the next message: the stream is open (no close
   * received or sent), no fragmented message is open, its Receiver has not failed (a protocol error in
   * an earlier frame of the same read ends reading) and holds nothing it has yet to deliver.
   */
  private receiverIdle(): boolean {
    return !this.fragmented && this.ws.readyState === OPEN && !this.receiverDone() && this.receiver.writableLength === 0;
  }

  /**
   * `ws` reads nothing more: its Receiver got a close frame (it ends itself) or failed on a protocol
   * error (flagged at once, destroyed a tick later). `ws` itself stops feeding it then, mid-read too.
   */
  private receiverDone(): boolean {
    const r = this.receiver;
    return r.writableEnded || r.errored !== null || r.destroyed;
  }

  /** Mirrors `ws`'s fragmentation state for a frame it receives (an invalid sequence makes `ws` close). */
  private noteFrame(b0: number): void {
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if ((opcode === 1 || opcode === 2) && !fin) this.fragmented = true;
    else if (opcode === 0 && fin) this.fragmented = false;
  }

  /**
   * The payload of `len` bytes after the mask at `maskAt`, unmasked into the scratch buffer: one native
   * copy, then XOR a 32-bit word at a time (the scratch buffer is aligned; the read's payload is not).
   * The view is reused while the length repeats, as a stream's media messages' does.
   */
  private unmask(chunk: Buffer, maskAt: number, len: number): Buffer {
    if (this.scratch.length < len) {
      this.scratch = Buffer.alloc(Math.max(len, this.scratch.length * 2) + 3);
      this.words = new Uint32Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length >>> 2);
    }
    chunk.copy(this.scratch, 0, maskAt + 4, maskAt + 4 + len);
    const m0 = chunk[maskAt] as number;
    const m1 = chunk[maskAt + 1] as number;
    const m2 = chunk[maskAt + 2] as number;
    const m3 = chunk[maskAt + 3] as number;
    // The mask's bytes as the word that covers them in memory order.
    const mask = LITTLE_ENDIAN ? (m0 | (m1 << 8) | (m2 << 16) | (m3 << 24)) >>> 0 : ((m0 << 24) | (m1 << 16) | (m2 << 8) | m3) >>> 0;
    const words = this.words;
    const n = (len + 3) >>> 2; // the last word's bytes past len are scratch, never read
    for (let k = 0; k < n; k++) words[k] = ((words[k] as number) ^ mask) >>> 0;
    if (this.view.length !== len || this.view.buffer !== this.scratch.buffer) this.view = this.scratch.subarray(0, len);
    return this.view;
  }

  /** Bytes [from, to) of the read to `ws`'s Receiver, with its back-pressure (it resumes the socket on 'drain'). */
  private forward(chunk: Buffer, from: number, to: number): void {
    if (to <= from || this.receiverDone()) return;
    if (!this.receiver.write(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to))) this.socket.pause();
  }
}

/**
 * Puts the fast lane in front of a server-side `ws` WebSocket's Receiver. Call it synchronously in the
 * connection handler (before the socket flows). Returns false, leaving `ws` as it was, when the
 * WebSocket does not have the shape the lane relies on.
 */
export function attachFastTextFrames(ws: WebSocket, onText: FastTextHandler, maxFastBytes: number): boolean {
  const internals = ws as unknown as WsInternals;
  const receiver = internals._receiver;
  const socket = internals._socket;
  if (receiver === undefined || socket === undefined || typeof receiver.write !== 'function' || internals.readyState !== OPEN) return false;
  const listeners = socket.listeners('data');
  const wsOnData = listeners[0];
  if (listeners.length !== 1 || wsOnData === undefined) return false;
  const lane = new FastTextLane(internals, receiver, socket, onText, maxFastBytes);
  socket.removeListener('data', wsOnData as (...args: unknown[]) => void);
  socket.on('data', lane.onData);
  return true;
}
