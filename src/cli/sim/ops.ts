// The simulated users' op mix (docs/SIM.md → What one run does): which action, which record, which
// field and value. Registers are the point: half the field edits set `dose`, half the values come from
// a small vocabulary, and most edits go to a few recent records, so replicas often assign the same
// field concurrently (conflicts), sometimes to the same value.
import type { Rng } from './rng.ts';

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
const FIELDS = ['dose', 'room', 'host', 'owner', 'port'];
const VOCABULARY: Record<string, readonly string[]> = {
  dose: ['2mg', '5mg', '10mg'],
  room: ['4', '5', '6'],
  host: ['10.0.0.2', '192.168.1.9'],
  owner: ['alice', 'bob'],
  port: ['22', '443'],
};
const ACTIONS = [
  ['create', 5],
  ['set_field', 30],
  ['set_title', 10],
  ['splice_notes', 10],
  ['delete', 3],
  ['restore', 4],
  ['resolve', 6],
  ['sync', 32],
] as const;
export type Action = (typeof ACTIONS)[number][0];

/** The seed's choices for one op, all drawn whatever the action (so the stream doesn't depend on it). */
export interface Choice {
  /** Mostly the second or third newest record (the newest is often not everywhere yet). */
  target: number;
  /** Any record. */
  any: number;
  field: string;
  /** The field value to set: half the time from the field's small vocabulary, else a fresh `WORD I`. */
  value: string;
  /** The title to set: `WORD server` (a small vocabulary) or a fresh `WORD I`. */
  title: string;
  word: string;
  pos: number;
  del: number;
}

export function drawChoice(rng: Rng, created: number, i: number): Choice {
  // most edits go to the last few records created, so concurrent edits of one record are common
  const hot = rng.next() < 0.7;
  const back = rng.int(1, 2);
  const any = rng.int(0, Math.max(0, created - 1));
  const word = rng.pick(WORDS);
  const dose = rng.next() < 0.5;
  const other = rng.pick(FIELDS);
  const field = dose ? 'dose' : other;
  const common = rng.next() < 0.5;
  const vocab = rng.pick(VOCABULARY[field]!);
  return {
    target: hot ? Math.max(0, created - 1 - back) : any,
    any,
    field,
    value: common ? vocab : `${word} ${i}`,
    title: common ? `${word} server` : `${word} ${i}`,
    word,
    pos: rng.next(),
    del: rng.int(0, 3),
  };
}

export function pickAction(rng: Rng): Action {
  const total = ACTIONS.reduce((s, [, w]) => s + w, 0);
  let x = rng.next() * total;
  for (const [a, w] of ACTIONS) if ((x -= w) < 0) return a;
  return 'sync';
}
