// How an event's payload is stored: JSON for the jsonb column, bounded in size, and cleaned of what
// PostgreSQL cannot hold. The event log's append() calls it once per event on the real-time path, so the
// common case is one JSON.stringify and two cheap checks.

// PostgreSQL's jsonb cannot hold U+0000. JSON.stringify writes it as the escape \u0000; replace
// that escape (and only an escape: the backslash must not itself be escaped) with U+FFFD.
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * Largest stored event payload (JSON bytes). Events carry flow values (an http body may be 1 MiB),
 * and the buffer holds up to EVENT_BUFFER_MAX events during an outage: a byte cap per entry bounds
 * that buffer and every timeline read. A bigger event keeps its small fields and records its size.
 */
export const MAX_EVENT_DATA_BYTES = 16 * 1024;
/** Fields up to this size survive the truncation of an oversized event. */
const KEPT_FIELD_BYTES = 512;

function truncatedData(rest: Record<string, unknown>, bytes: number): string {
  const keep = (obj: Record<string, unknown>, depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth > 0) out[k] = keep(v as Record<string, unknown>, depth - 1);
      else if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        const json = JSON.stringify(v);
        if (json !== undefined && json.length <= KEPT_FIELD_BYTES) out[k] = v;
      }
    }
    return out;
  };
  const kept = JSON.stringify({ ...keep(rest, 1), truncated: { bytes } });
  return kept.length <= MAX_EVENT_DATA_BYTES / 3 ? kept : JSON.stringify({ truncated: { bytes } });
}

/** The stored JSON of an event's fields (all but type and atMs). Throws on BigInt and cycles. */
export function storedEventData(rest: Record<string, unknown>): string {
  let data = JSON.stringify(rest);
  if (data.length > MAX_EVENT_DATA_BYTES / 3 && Buffer.byteLength(data) > MAX_EVENT_DATA_BYTES) data = truncatedData(rest, Buffer.byteLength(data));
  if (data.includes('\\u0000')) data = data.replace(NUL_ESCAPE, '$1\\ufffd');
  return data;
}
