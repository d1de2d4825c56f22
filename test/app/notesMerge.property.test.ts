// The web editor's save never drops a teammate's notes (issue 9): the form saves as of the heads it
// showed (saveEdit), so Automerge merges the notes character by character. Alice's form opens on
// random notes; Bob edits them (keystroke splices, or his own form's save) and his edits reach Alice
// before (or after) she saves a random draft. Every character Bob inserted is still there, in his
// order (even inside a range Alice deleted: she deleted only what she saw), each of his insertions
// stays in one piece, Alice's own text is all there, and both replicas show the same notes.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseOf, draftOf, saveEdit } from '../../src/app/saveEdit.ts';
import { FixtureAuthority, makeDevice } from '../docs/fixtures.ts';
import { openSession } from '../docs/sessionFixtures.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const SEED = Number(process.env.NOTES_FC_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.NOTES_FC_RUNS ?? 300);

const aliceDev = makeDevice('alice');
const bobDev = makeDevice('bob');
const auth = new FixtureAuthority().add(aliceDev).add(bobDev);
type S = Awaited<ReturnType<typeof openSession>>;
let a: S;
let b: S;

beforeAll(async () => {
  a = await openSession(aliceDev, auth);
  b = await openSession(bobDev, auth);
});
afterAll(async () => {
  await a?.session.close();
  await b?.session.close();
});

/** Every envelope either side has sent reaches both sides (duplicates are no-ops), then leaves the outboxes. */
async function exchange(): Promise<void> {
  const pending = [...(await a.session.outbox.pending()), ...(await b.session.outbox.pending())];
  for (const s of [a, b]) expect((await s.session.applyRemote(pending.map(e => e.bytes))).rejected).toEqual([]);
  for (const s of [a, b]) for (const e of pending) await s.session.outbox.ack(e.docId, e.seq);
}

/** Bob only receives (his own outbox stays for later). */
async function bobToAlice(): Promise<void> {
  const pending = await b.session.outbox.pending();
  expect((await a.session.applyRemote(pending.map(e => e.bytes))).rejected).toEqual([]);
}

// Characters by who typed them: Alice's and Bob's insertions use characters of their own (unique
// within a case), so each one can be followed; the base and Alice's repeated lines use a small
// alphabet, so lines repeat as they do in real notes.
const LOCAL0 = 0x0400; // Cyrillic
const REMOTE0 = 0x4e00; // CJK
const isLocal = (c: string) => c.charCodeAt(0) >= LOCAL0 && c.charCodeAt(0) < LOCAL0 + 0x100;
const isRemote = (c: string) => c.charCodeAt(0) >= REMOTE0 && c.charCodeAt(0) < REMOTE0 + 0x1000;
const isBase = (c: string) => !isLocal(c) && !isRemote(c);
const only = (s: string, p: (c: string) => boolean) => [...s].filter(p).join('');
const isSubsequence = (sub: string, of: string) => {
  let i = 0;
  for (const c of of) if (i < sub.length && c === sub[i]) i++;
  return i === sub.length;
};

const baseText = fc.array(fc.constantFrom('ok\n', 'ok', 'a', 'b', ' ', '\n', 'line one\n'), { maxLength: 12 }).map(xs => xs.join(''));
/** A splice at a relative position: pos and del are scaled to the text at hand when applied. */
const splice = (insert: fc.Arbitrary<{ unique: number } | { text: string }>) =>
  fc.record({ pos: fc.double({ min: 0, max: 1, noNaN: true }), del: fc.nat({ max: 6 }), insert });
const localSplice = splice(fc.oneof(fc.record({ unique: fc.nat({ max: 4 }) }), fc.record({ text: fc.constantFrom('ok\n', ' done', '\n', 'ok') })));
const remoteSplice = splice(fc.record({ unique: fc.nat({ max: 4 }) }));

function place(text: string, op: { pos: number; del: number }): { at: number; del: number } {
  const at = Math.min(text.length, Math.floor(op.pos * (text.length + 1)));
  return { at, del: Math.min(op.del, text.length - at) };
}

describe('notes saved from the web form keep every remote edit', () => {
  it(`random base, draft and remote edits: every character Bob inserted survives Alice's save, both replicas agree (fast-check seed ${SEED}, ${RUNS} runs)`, async () => {
    console.log(`notesMerge property: seed ${SEED}, ${RUNS} runs (rerun with NOTES_FC_SEED=${SEED})`);
    await fc.assert(
      fc.asyncProperty(
        baseText,
        fc.array(localSplice, { maxLength: 4 }),
        fc.array(remoteSplice, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('keystrokes', 'form') as fc.Arbitrary<'keystrokes' | 'form'>,
        fc.constantFrom('before', 'after') as fc.Arbitrary<'before' | 'after'>,
        async (base, localOps, remoteOps, bobEdits, arrives) => {
          const id = await a.records.create({ title: 'Notes', notes: base });
          await exchange();
          const shown = (await a.records.get(id))!; // Alice's form opens

          // Alice's draft, made from what her form shows.
          let draft = base;
          let nextLocal = LOCAL0;
          for (const op of localOps) {
            const { at, del } = place(draft, op);
            const ins = 'unique' in op.insert ? Array.from({ length: op.insert.unique }, () => String.fromCharCode(nextLocal++)).join('') : op.insert.text;
            draft = draft.slice(0, at) + ins + draft.slice(at + del);
          }

          // Bob's edits, keystroke by keystroke or saved from his own form.
          let remote = base;
          let nextRemote = REMOTE0;
          const inserted: string[] = [];
          const bobShown = (await b.records.get(id))!;
          for (const op of remoteOps) {
            const { at, del } = place(remote, op);
            const ins = Array.from({ length: 'unique' in op.insert ? op.insert.unique : 0 }, () => String.fromCharCode(nextRemote++)).join('');
            if (ins) inserted.push(ins);
            if (bobEdits === 'keystrokes' && (ins || del)) await b.records.spliceNotes(id, at, del, ins);
            remote = remote.slice(0, at) + ins + remote.slice(at + del);
          }
          if (bobEdits === 'form') await saveEdit(b.records, id, baseOf(bobShown), { ...draftOf(bobShown), notes: remote });
          expect((await b.records.get(id))!.notes).toBe(remote);

          if (arrives === 'before') await bobToAlice();
          await saveEdit(a.records, id, baseOf(shown), { ...draftOf(shown), notes: draft });
          await exchange();

          const merged = (await a.records.get(id))!.notes;
          const ctx = JSON.stringify({ base, draft, remote, merged });
          expect((await b.records.get(id))!.notes, ctx).toBe(merged);
          expect(only(merged, isRemote), `every character Bob inserted, in his order: ${ctx}`).toBe(only(remote, isRemote));
          for (const s of inserted) if (remote.includes(s)) expect(merged.includes(s), `Bob's insertion ${s} in one piece: ${ctx}`).toBe(true);
          expect(only(merged, isLocal), `every character Alice inserted: ${ctx}`).toBe(only(draft, isLocal));
          expect(isSubsequence(only(merged, isBase), only(draft, isBase)), `nothing Alice deleted comes back: ${ctx}`).toBe(true);
          if (draft === base) expect(merged, ctx).toBe(remote);
          if (remote === base) expect(merged, ctx).toBe(draft);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  async function twoForms(base: string) {
    const id = await a.records.create({ title: 'Visit', notes: base });
    await exchange();
    return { id, aliceForm: baseOf((await a.records.get(id))!), bobForm: baseOf((await b.records.get(id))!) };
  }

  it('both open empty notes; Bob saves "pharmacy confirmed" while Alice types; after her save both texts are there', async () => {
    const { id, aliceForm, bobForm } = await twoForms('');
    await saveEdit(b.records, id, bobForm, { ...bobForm.draft, notes: 'pharmacy confirmed' });
    await bobToAlice();
    await saveEdit(a.records, id, aliceForm, { ...aliceForm.draft, notes: 'call back at 5' });
    await exchange();
    const notes = (await a.records.get(id))!.notes;
    expect(notes).toContain('pharmacy confirmed');
    expect(notes).toContain('call back at 5');
    expect(notes.length).toBe('pharmacy confirmed'.length + 'call back at 5'.length);
    expect((await b.records.get(id))!.notes).toBe(notes);
  });

  it('with repeated lines, each person\'s appended text stays on the line they appended it to', async () => {
    const { id, aliceForm, bobForm } = await twoForms('ok\nok\nok\n');
    await saveEdit(b.records, id, bobForm, { ...bobForm.draft, notes: 'ok\nok (bob)\nok\n' });
    await bobToAlice();
    await saveEdit(a.records, id, aliceForm, { ...aliceForm.draft, notes: 'ok\nok\nok (alice)\n' });
    await exchange();
    for (const s of [a, b]) expect((await s.records.get(id))!.notes).toBe('ok\nok (bob)\nok (alice)\n');
  });

  it('Bob writes inside a paragraph Alice deletes: his words stay, the rest of her delete holds', async () => {
    const { id, aliceForm } = await twoForms('keep\ndrop this paragraph\nkeep\n');
    await b.records.spliceNotes(id, 'keep\ndrop this'.length, 0, ' (bob: no!)');
    await bobToAlice();
    await saveEdit(a.records, id, aliceForm, { ...aliceForm.draft, notes: 'keep\nkeep\n' });
    await exchange();
    const notes = (await a.records.get(id))!.notes;
    expect(notes).toContain(' (bob: no!)');
    expect(notes.replace(' (bob: no!)', '')).toBe('keep\nkeep\n');
    expect((await b.records.get(id))!.notes).toBe(notes);
  });
});
