import * as A from '@automerge/automerge';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FixtureAuthority, makeDevice } from './fixtures.ts';
import { openSession, outboxOf } from './sessionFixtures.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const SEED = 20261127;

describe('convergence under any delivery', () => {
  it(`carol converges to the same heads whatever order, batching and duplication the relay delivers in (fast-check seed ${SEED})`, async () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const carol = makeDevice('carol');
    const auth = new FixtureAuthority().add(alice).add(bob).add(carol);
    // Alice and Bob edit the same record concurrently, then again after syncing once.
    const a = await openSession(alice, auth);
    const b = await openSession(bob, auth);
    const id = await a.records.create({ title: 'Shared', notes: 'start' });
    await b.session.applyRemote(await outboxOf(a));
    for (let i = 0; i < 3; i++) {
      await a.records.update(id, { fields: { [`a${i}`]: 'x' }, notes: `alice ${i}` });
      await b.records.update(id, { fields: { [`b${i}`]: 'y' }, tags: [`t${i}`] });
    }
    await b.session.applyRemote(await outboxOf(a));
    await b.records.update(id, { title: 'Shared, merged' });
    const all = [...(await outboxOf(a)), ...(await outboxOf(b))];
    const want = A.getHeads((await b.session.open<unknown>(id))!.doc()).sort();
    await a.session.applyRemote(all);
    expect(A.getHeads((await a.session.open<unknown>(id))!.doc()).sort()).toEqual(want);

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(all.length - 1), { minLength: all.length, maxLength: all.length * 2 }),
        fc.shuffledSubarray([...all.keys()], { minLength: all.length, maxLength: all.length }),
        fc.integer({ min: 1, max: 5 }),
        async (extra, order, batch) => {
          const c = await openSession(carol, auth);
          const stream = [...order, ...extra].map(i => all[i]!);
          for (let i = 0; i < stream.length; i += batch) await c.session.applyRemote(stream.slice(i, i + batch));
          const doc = (await c.session.open<unknown>(id))!.doc();
          expect(A.getHeads(doc).sort()).toEqual(want);
          expect(await c.session.pending.list()).toEqual([]);
          expect(await c.session.quarantine.list()).toEqual([]);
          await c.session.close();
        },
      ),
      { seed: SEED, numRuns: 25 },
    );
    await a.session.close();
    await b.session.close();
  });
});
