// Pre-encoded outbound audio. A cached prompt is played to many calls, cut into the same 100 ms chunks
// every time; its base64 text (what a media message carries) is computed once per chunk and reused by
// every later call instead of re-encoding per call. Only buffers marked immutable (the prompt cache's
// entries, never written after they are stored) are remembered, keyed weakly by their ArrayBuffer so
// an evicted prompt's encodings go with it.
const immutable = new WeakMap<ArrayBufferLike, Map<number, string>>();

/** Declares that `audio`'s bytes never change again (its whole ArrayBuffer). */
export function markImmutableAudio(audio: Uint8Array): void {
  if (!immutable.has(audio.buffer)) immutable.set(audio.buffer, new Map());
}

/** The base64 of `chunk`, from the encodings kept for immutable audio when it is part of one. */
export function base64Of(chunk: Uint8Array): string {
  const kept = immutable.get(chunk.buffer);
  // Chunks start at most a few MB into a prompt and are at most a few KB long: one number keys both.
  const key = chunk.byteOffset * 65536 + chunk.length;
  const hit = kept?.get(key);
  if (hit !== undefined) return hit;
  const b64 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString('base64');
  kept?.set(key, b64);
  return b64;
}
