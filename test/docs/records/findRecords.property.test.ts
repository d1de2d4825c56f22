// Find, as a property (issue 12): for random records and queries, findRecords returns exactly the
// records in which every word of the query appears once case and accents are set aside, in the order
// asked for; a record is always found by any word of its own title, however it is cased or accented.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findRecords, normalizeForSearch, searchTextOf } from '../../../src/docs/records/findRecords.ts';
import type { RecordSummary } from '../../../src/docs/records/recordTypes.ts';

const SEED = Number(process.env.FIND_FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = 200;

// Words drawn from a small alphabet with accents, so matches and near-misses are both common.
const word = fc.stringMatching(/^[aàeéiïoôuüAÉnÑ]{1,4}$/);
const text = fc.array(word, { maxLength: 4 }).map(ws => ws.join(' '));
const record = fc.record({
  title: text,
  fields: fc.dictionary(word, text, { maxKeys: 3 }),
  notes: text,
  tags: fc.array(word, { maxLength: 2 }),
  updatedAt: fc.option(fc.integer({ min: 0, max: 1e12 }), { nil: undefined }),
});

const strip = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

describe('findRecords, for any records and query', () => {
  it(`returns exactly the records holding every query word, sorted as asked; each is found by its title's words (fast-check seed ${SEED}, ${RUNS} runs)`, () => {
    console.log(`findRecords property: seed ${SEED}, ${RUNS} runs (rerun with FIND_FC_SEED=${SEED})`);
    fc.assert(
      fc.property(fc.array(record, { maxLength: 12 }), text, fc.constantFrom('title' as const, 'updated' as const), (rs, query, sort) => {
        const summaries: RecordSummary[] = rs.map((r, i) => ({
          id: `r${String(i).padStart(2, '0')}`, title: r.title, deleted: false, tags: r.tags, searchText: searchTextOf(r),
          ...(r.updatedAt !== undefined ? { updatedAt: r.updatedAt } : {}),
        }));
        const found = findRecords(summaries, { query, sort });
        const words = strip(query).split(' ').filter(Boolean);
        const holds = (r: (typeof rs)[number]) => {
          const all = strip([r.title, ...Object.entries(r.fields).flat(), r.notes, ...r.tags].join('\n'));
          return words.every(w => all.includes(w));
        };
        expect(found.map(f => f.id).sort()).toEqual(summaries.filter((_, i) => holds(rs[i]!)).map(s => s.id).sort());
        for (let i = 1; i < found.length; i++) {
          const [a, b] = [found[i - 1]!, found[i]!];
          if (sort === 'title') expect(a.title.localeCompare(b.title)).toBeLessThanOrEqual(0);
          else expect((a.updatedAt ?? -Infinity) >= (b.updatedAt ?? -Infinity)).toBe(true);
        }
        for (const s of summaries) {
          for (const w of s.title.split(' ').filter(Boolean)) {
            expect(findRecords([s], { query: w.toUpperCase() }).length).toBe(1);
            expect(findRecords([s], { query: normalizeForSearch(w) }).length).toBe(1);
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
