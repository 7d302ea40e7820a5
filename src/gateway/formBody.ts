// Carrier webhook bodies (application/x-www-form-urlencoded) as parameters. The object has no
// prototype: a field named `__proto__` (or `constructor`) is a field like any other, and cannot
// replace the prototype of the object the handlers read.
export type FormParams = Record<string, string | string[]>;

export function parseFormBody(body: string): FormParams {
  const out = Object.create(null) as FormParams;
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
