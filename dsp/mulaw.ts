// G.711 mu-law, decoded and encoded through lookup tables built once from alawmulaw's reference
// codec: the per-frame path does one table read per sample and allocates nothing.
import alawmulaw from 'alawmulaw';

const DECODE = new Int16Array(256);
for (let i = 0; i < 256; i++) DECODE[i] = alawmulaw.mulaw.decodeSample(i);

// mu-law has 14-bit magnitude resolution, so the two low bits of a 16-bit sample never matter.
const ENCODE = new Uint8Array(1 << 14);
for (let i = 0; i < ENCODE.length; i++) ENCODE[i] = alawmulaw.mulaw.encodeSample(((i << 2) << 16) >> 16);

/** mu-law silence (encoded 0). */
export const MULAW_SILENCE = ENCODE[0] as number;

/** Decode `src` into `dst` (same length or longer); returns the count decoded. */
export function decodeMulawInto(src: Uint8Array, dst: Int16Array): number {
  const n = Math.min(src.length, dst.length);
  for (let i = 0; i < n; i++) dst[i] = DECODE[src[i] as number] as number;
  return n;
}

export function decodeMulaw(src: Uint8Array): Int16Array {
  const out = new Int16Array(src.length);
  decodeMulawInto(src, out);
  return out;
}

export function encodeMulawSample(sample: number): number {
  return ENCODE[(sample >> 2) & 0x3fff] as number;
}

export function encodeMulawInto(src: Int16Array, dst: Uint8Array): number {
  const n = Math.min(src.length, dst.length);
  for (let i = 0; i < n; i++) dst[i] = ENCODE[((src[i] as number) >> 2) & 0x3fff] as number;
  return n;
}

export function encodeMulaw(src: Int16Array): Uint8Array {
  const out = new Uint8Array(src.length);
  encodeMulawInto(src, out);
  return out;
}
