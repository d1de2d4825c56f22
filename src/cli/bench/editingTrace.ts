// A synthetic stand-in for Kleppmann's automerge-perf editing trace (the "automerge-paper" trace:
// 259,778 single-character edits, 182,315 insertions and 77,463 deletions, ending at 104,852
// characters). The real trace is not on the npm registry (the only registry this project reaches),
// so this one has the same size and shape: mostly sequential typing, runs of backspaces, and the
// cursor jumping elsewhere now and then. Seeded: the same seed gives the same edits on every machine.
import { mulberry32 } from '../sim/rng.ts';

export const TRACE_EDITS = 259_778;
/** Share of deletions in the real trace: 77,463 of 259,778. */
const DELETE_SHARE = 77_463 / 259_778;
/** A backspace run goes on with this chance (mean run: 4 characters). */
const BACKSPACE_GOES_ON = 0.75;
/** Before a keystroke, the cursor jumps to a random place with this chance. */
const JUMP = 0.01;
const TEXT = 'the quick brown fox jumps over the lazy dog while a writer drafts, rereads and revises a paper.\n';

/** One edit: delete the character at `pos`, or insert `insert` at `pos`. */
export type TraceEdit = { pos: number; delete: true } | { pos: number; insert: string };

export function syntheticTrace(edits = TRACE_EDITS, seed = 0x6b6c6570): TraceEdit[] {
  const next = mulberry32(seed);
  // Starting a backspace run at this rate, after each insertion, gives DELETE_SHARE deletions overall.
  const meanRun = 1 / (1 - BACKSPACE_GOES_ON);
  const startRun = DELETE_SHARE / (meanRun * (1 - DELETE_SHARE));
  const out: TraceEdit[] = [];
  let length = 0;
  let cursor = 0;
  let deleting = false;
  let typed = 0;
  while (out.length < edits) {
    if (length > 0 && next() < JUMP) cursor = Math.floor(next() * (length + 1));
    deleting = cursor > 0 && (deleting ? next() < BACKSPACE_GOES_ON : next() < startRun);
    if (deleting) {
      cursor--;
      length--;
      out.push({ pos: cursor, delete: true });
    } else {
      out.push({ pos: cursor, insert: TEXT[typed++ % TEXT.length]! });
      cursor++;
      length++;
    }
  }
  return out;
}
