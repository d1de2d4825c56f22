// Model test: random save/remove/removeRange sequences on the encrypted adapter (over memory) behave
// exactly like a plain map of key paths, seen through load and loadRange by random prefixes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../src/crypto/bytes.ts';
import { asKey, type DataKey } from '../../../src/crypto/keys.ts';
import { EncryptedStorageAdapter } from '../../../src/docs/storage/EncryptedStorageAdapter.ts';
import { MemoryStorageAdapter } from '../../../src/docs/storage/MemoryStorageAdapter.ts';
import { startsWithKey } from '../../../src/docs/storage/storageNames.ts';

const SEED = 20261127;
const part = fc.constantFrom('doc-a', 'doc-ab', 'snapshot', 'incremental', '', 'é/..', 'x');
const key = fc.array(part, { minLength: 1, maxLength: 3 });
const op = fc.oneof(
  fc.record({ kind: fc.constant('save' as const), key, value: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('remove' as const), key }),
  fc.record({ kind: fc.constant('removeRange' as const), key: fc.array(part, { minLength: 1, maxLength: 2 }) }),
);

describe('encrypted storage model', () => {
  it('behaves like a plain map of key paths under any sequence of writes (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), fc.array(fc.array(part, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 }), async (ops, prefixes) => {
        const r = await EncryptedStorageAdapter.open(new MemoryStorageAdapter(), asKey<DataKey>(randomBytes(32)));
        if (!r.ok) throw new Error(r.reason);
        const adapter = r.value;
        const model = new Map<string, { key: string[]; data: Uint8Array }>();
        for (const o of ops) {
          if (o.kind === 'save') {
            await adapter.save(o.key, o.value);
            model.set(JSON.stringify(o.key), { key: o.key, data: o.value });
          } else if (o.kind === 'remove') {
            await adapter.remove(o.key);
            model.delete(JSON.stringify(o.key));
          } else {
            await adapter.removeRange(o.key);
            for (const [k, e] of model) if (startsWithKey(e.key, o.key)) model.delete(k);
          }
        }
        for (const p of prefixes) {
          expect(await adapter.load(p)).toEqual(model.get(JSON.stringify(p))?.data);
          const got = (await adapter.loadRange(p)).map(c => JSON.stringify([c.key, [...c.data!]])).sort();
          const want = [...model.values()].filter(e => startsWithKey(e.key, p)).map(e => JSON.stringify([e.key, [...e.data]])).sort();
          expect(got).toEqual(want);
        }
        expect(adapter.corruptCount).toBe(0);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});
