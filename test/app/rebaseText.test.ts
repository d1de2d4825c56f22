// Stories for the form's three-way text merge: bob's edit to one part of the notes lands on top of
// alice's concurrent edit to another part; an ambiguous place is refused rather than guessed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rebaseText } from '../../src/app/rebaseText.ts';

describe('rebaseText', () => {
  it('bob appends a line while alice fixed a typo at the top: both stay', () => {
    const base = 'Keeper rota\nMonday: alcie\nTuesday: bob\n';
    const alice = 'Keeper rota\nMonday: alice\nTuesday: bob\n';
    const bob = 'Keeper rota\nMonday: alcie\nTuesday: bob\nWednesday: carol\n';
    expect(rebaseText(base, bob, alice)).toBe('Keeper rota\nMonday: alice\nTuesday: bob\nWednesday: carol\n');
  });

  it('replacing a word in the middle keeps concurrent edits before and after it', () => {
    expect(rebaseText('one two three four five', 'one two 3 four five', 'ZERO one two three four five SIX')).toBe('ZERO one two 3 four five SIX');
  });

  it('nothing moved, or nothing edited: the obvious answers', () => {
    expect(rebaseText('a', 'b', 'a')).toBe('b');
    expect(rebaseText('a', 'a', 'c')).toBe('c');
  });

  it('when the edited place is gone or appears twice, it refuses instead of guessing', () => {
    expect(rebaseText('abc', 'aXc', 'zzz')).toBeUndefined();
    expect(rebaseText('ab', 'aXb', 'ab ab')).toBeUndefined();
  });

  it('property: with no concurrent change the draft wins; with a disjoint concurrent append both land (seed 7)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string({ minLength: 1 }), (base, draft, extra) => {
        expect(rebaseText(base, draft, base)).toBe(draft);
        const merged = rebaseText(base, draft, base + '\u0000' + extra);
        if (merged !== undefined) expect(merged.endsWith('\u0000' + extra) || draft.includes('\u0000')).toBe(true);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
