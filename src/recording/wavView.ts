// A stored dual-channel recording seen as the WAV a listener asked for: the stereo file as it is
// (`both`), or one channel as a mono WAV built on the fly (`caller` = left, `gateway` = right). Byte
// ranges address the view, so a browser's <audio> element can seek in any of them.
import { Readable } from 'node:stream';
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import type { RecordingStorage } from './storage.ts';
import { WAV_HEADER_BYTES, wavHeader } from './wavHeader.ts';

export type Channel = 'caller' | 'gateway' | 'both';

/** Bytes read from storage per step: bounded memory whatever the file size. */
const READ_CHUNK = 64 * 1024;

export interface WavView {
  size: number;
  /** Bytes [start, end] inclusive of the view. */
  stream(start: number, end: number): Readable;
}

export function wavView(storage: RecordingStorage, id: string, fileSize: number, channel: Channel): WavView {
  const stereoData = Math.max(0, fileSize - WAV_HEADER_BYTES);
  const frames = Math.floor(stereoData / 4);
  if (channel === 'both') {
    const header = wavHeader(frames * 4, 2, SAMPLE_RATE_HZ);
    return { size: WAV_HEADER_BYTES + frames * 4, stream: (start, end) => Readable.from(readView(header, start, end, (pos, len) => storage.read(id, WAV_HEADER_BYTES + pos, len))) };
  }
  const offset = channel === 'caller' ? 0 : 2;
  const header = wavHeader(frames * 2, 1, SAMPLE_RATE_HZ);
  // Mono bytes [pos, pos+len) come from stereo frames [pos/2, (pos+len)/2): pick one sample of each.
  const readMono = async (pos: number, len: number): Promise<Uint8Array> => {
    const firstFrame = Math.floor(pos / 2);
    const lastFrame = Math.floor((pos + len - 1) / 2);
    const stereo = await storage.read(id, WAV_HEADER_BYTES + firstFrame * 4, (lastFrame - firstFrame + 1) * 4);
    const mono = Buffer.alloc((lastFrame - firstFrame + 1) * 2);
    for (let f = 0; f * 4 + offset + 1 < stereo.length; f++) {
      mono[f * 2] = stereo[f * 4 + offset] as number;
      mono[f * 2 + 1] = stereo[f * 4 + offset + 1] as number;
    }
    return mono.subarray(pos - firstFrame * 2, pos - firstFrame * 2 + len);
  };
  return { size: WAV_HEADER_BYTES + frames * 2, stream: (start, end) => Readable.from(readView(header, start, end, readMono)) };
}

async function* readView(header: Buffer, start: number, end: number, readData: (pos: number, len: number) => Promise<Uint8Array>): AsyncGenerator<Uint8Array> {
  let pos = start;
  if (pos < WAV_HEADER_BYTES) {
    const stop = Math.min(end + 1, WAV_HEADER_BYTES);
    yield header.subarray(pos, stop);
    pos = stop;
  }
  while (pos <= end) {
    const len = Math.min(READ_CHUNK, end + 1 - pos);
    const chunk = await readData(pos - WAV_HEADER_BYTES, len);
    if (chunk.length === 0) return;
    yield chunk;
    pos += chunk.length;
  }
}

/** One `bytes=` range (RFC 9110 §14.1.2) resolved against `size`; undefined = serve it all; null = unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges or another unit: a server may ignore Range and send the whole representation.
  if (m === null) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return null;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}
