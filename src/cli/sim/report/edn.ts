// The part of EDN (https://github.com/edn-format/edn) that the Elle history export writes and its
// checker reads back: nil, booleans, integers, strings, keywords, vectors and maps. Strings are escaped
// so that any JavaScript string (control characters, lone surrogates, quotes) reads back unchanged.

export type Edn = null | boolean | number | string | Keyword | Edn[] | EdnMap;
export interface Keyword {
  readonly kw: string;
}
export interface EdnMap {
  readonly map: readonly (readonly [Edn, Edn])[];
}

export const kw = (name: string): Keyword => ({ kw: name });
export const ednMap = (entries: readonly (readonly [Edn, Edn])[]): EdnMap => ({ map: entries });
export const isKeyword = (v: Edn | undefined): v is Keyword => typeof v === 'object' && v !== null && 'kw' in v;
export const isEdnMap = (v: Edn | undefined): v is EdnMap => typeof v === 'object' && v !== null && 'map' in v;

/** An EDN string literal: `\"`, `\\`, `\n`, `\t`, `\r`; other control characters and lone surrogates as `\uXXXX`. */
export function ednString(s: string): string {
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    const ch = s[k]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdbff && k + 1 < s.length && (s.charCodeAt(k + 1) & 0xfc00) === 0xdc00) out += ch + s[++k]!;
    else if (c >= 0xd800 && c <= 0xdfff) out += `\\u${c.toString(16).padStart(4, '0')}`; // lone surrogate
    else out += ch;
  }
  return out + '"';
}

/** One EDN value on one line. Numbers must be integers (the export writes no floats). */
export function writeEdn(v: Edn): string {
  if (v === null) return 'nil';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`EDN export writes integers only, got ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return ednString(v);
  if (Array.isArray(v)) return `[${v.map(writeEdn).join(' ')}]`;
  if (isKeyword(v)) return `:${v.kw}`;
  return `{${v.map.map(([k, x]) => `${writeEdn(k)} ${writeEdn(x)}`).join(', ')}}`;
}

export type ReadResult = { ok: true; value: Edn } | { ok: false; reason: string; at: number };

/** Reads exactly one EDN value of the subset above from `text` (surrounding whitespace and commas allowed). */
export function readEdn(text: string): ReadResult {
  let p = 0;
  const fail = (reason: string): never => {
    throw Object.assign(new Error(reason), { ednAt: p });
  };
  const skip = () => {
    while (p < text.length && /[\s,]/.test(text[p]!)) p++;
  };
  const symbolChars = /[A-Za-z0-9*+!\-_?<>=./:#$%&']/;
  const token = () => {
    const start = p;
    while (p < text.length && symbolChars.test(text[p]!)) p++;
    return text.slice(start, p);
  };
  const value = (): Edn => {
    skip();
    const ch = text[p];
    if (ch === undefined) return fail('unexpected_end');
    if (ch === '"') return stringLit();
    if (ch === '[') {
      p++;
      const items: Edn[] = [];
      for (;;) {
        skip();
        if (text[p] === ']') return p++, items;
        items.push(value());
      }
    }
    if (ch === '{') {
      p++;
      const entries: [Edn, Edn][] = [];
      for (;;) {
        skip();
        if (text[p] === '}') return p++, ednMap(entries);
        const k = value();
        skip();
        if (text[p] === '}') return fail('odd_map');
        entries.push([k, value()]);
      }
    }
    if (ch === ':') {
      p++;
      const name = token();
      return name ? kw(name) : fail('empty_keyword');
    }
    const t = token();
    if (t === 'nil') return null;
    if (t === 'true' || t === 'false') return t === 'true';
    if (/^[-+]?\d+$/.test(t)) return Number(t);
    return fail(t ? 'unsupported_token' : 'unexpected_character');
  };
  const stringLit = (): string => {
    p++;
    let out = '';
    for (;;) {
      const ch = text[p++];
      if (ch === undefined) return fail('unterminated_string');
      if (ch === '"') return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = text[p++];
      if (e === 'n') out += '\n';
      else if (e === 't') out += '\t';
      else if (e === 'r') out += '\r';
      else if (e === '"' || e === '\\') out += e;
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(p, p + 4))) {
        out += String.fromCharCode(parseInt(text.slice(p, p + 4), 16));
        p += 4;
      } else return fail('bad_escape');
    }
  };
  try {
    const v = value();
    skip();
    return p === text.length ? { ok: true, value: v } : { ok: false, reason: 'trailing_text', at: p };
  } catch (e) {
    return { ok: false, reason: (e as Error).message, at: (e as { ednAt?: number }).ednAt ?? p };
  }
}

/** The value under keyword `name` in an EDN map, or undefined. */
export function getKw(m: Edn | undefined, name: string): Edn | undefined {
  if (!isEdnMap(m)) return undefined;
  for (const [k, v] of m.map) if (isKeyword(k) && k.kw === name) return v;
  return undefined;
}
