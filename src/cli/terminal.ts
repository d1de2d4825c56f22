// Text from other people (record titles, fields, notes, tags, names) goes to a terminal only after
// its control and format characters are made visible: a member could otherwise type escape sequences
// that clear the screen, rewrite earlier lines or reverse text direction in a colleague's terminal.
// JSON output is already escaped by JSON.stringify.

// C0 and C1 controls, DEL, and format characters (bidi overrides and isolates, zero-width joiners…).
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** `s` with every control or format character shown as \u{…} (newlines too: one value, one line). */
export function termSafe(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** Multi-line text (notes): each line made safe, the line breaks kept. */
export function termSafeLines(s: string): string[] {
  return s.split('\n').map((l) => termSafe(l.replace(/\r$/, '')));
}
