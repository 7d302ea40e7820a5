// L16 payload bytes ⇄ Int16 samples. RFC 3551 §4.5.11 defines L16 as 16-bit signed samples in network
// byte order (big-endian). SignalWire's <Stream codec="L16@16000h|L16@24000h"> page does not restate the
// byte order, so we follow the RFC on both sides (gateway and replay client) and keep it in one place.

/** Decode big-endian L16 bytes into `dst`; returns the number of samples written (odd trailing byte ignored). */
export function decodeL16Into(bytes: Uint8Array, dst: Int16Array): number {
  const n = Math.min(bytes.length >> 1, dst.length);
  for (let i = 0; i < n; i++) {
    const v = ((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number);
    dst[i] = (v << 16) >> 16;
  }
  return n;
}

export function decodeL16(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length >> 1);
  decodeL16Into(bytes, out);
  return out;
}

/** Encode samples as big-endian L16 into `dst` (2 bytes per sample); returns the bytes written. */
export function encodeL16Into(samples: Int16Array, dst: Uint8Array): number {
  const n = Math.min(samples.length, dst.length >> 1);
  for (let i = 0; i < n; i++) {
    const v = samples[i] as number;
    dst[2 * i] = (v >> 8) & 0xff;
    dst[2 * i + 1] = v & 0xff;
  }
  return 2 * n;
}

export function encodeL16(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  encodeL16Into(samples, out);
  return out;
}
