// Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, integers only.
// A membership entry is encoded this way once; decoding re-encodes and refuses any other spelling,
// so every signed body has exactly one byte representation.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Encode a JSON value canonically. Throws on non-integers or non-JSON values (our own misuse). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`canonical JSON allows safe integers only: ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  throw new TypeError(`not JSON: ${typeof value}`);
}

/** Parse text that must already be canonical; undefined if it is not JSON or not canonical. */
export function parseCanonical(text: string): { value: Json; canonical: boolean } | undefined {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
  let again: string;
  try {
    again = canonicalJson(value);
  } catch {
    return { value, canonical: false };
  }
  return { value, canonical: again === text };
}
