// Records figures: `record list` reads every title and deleted flag from the record itself (the index
// holds only which records exist), so its cost grows with the number of records. Measured on a real
// profile (encrypted filesystem storage) with 1,000 records: the first list after opening the profile
// (what one CLI command pays), a second list in the same session (what the web app pays on a change),
// and side by side the index read alone (what a title cache copied into the index would cost).
// Find (issue 12): building the searchable list (list with details: tags, latest verified change,
// search text) once and again in the same session (what the web app pays per refresh), then searching
// it as the web app does per keystroke (median per query; and a query matching all 1,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIN_KDF } from '../../crypto/argon2.ts';
import { openRecordSession, type RecordSession } from '../../docs/openSession.ts';
import { deviceKeysOfVault } from '../../docs/sync/nodeSyncSession.ts';
import { createVault } from '../../identity/vault/createVault.ts';
import { createWorkspace } from '../../identity/workspace/createWorkspace.ts';
import { saveWorkspace } from '../../identity/workspace/store.ts';
import { findRecords } from '../../docs/records/findRecords.ts';
import { median, round, timeMs } from './measure.ts';
import type { BenchSuite, Figures } from './suite.ts';

const RECORDS = 1_000;
const RUNS = 3;
// Queries as people type them: a title, a field value, a word of the notes, two words, and no match.
const QUERIES = ['record 0421', '7mg', 'seen', 'room 12 record', 'zzz', 'r', 'valve'];
const FIND_ROUNDS = 20;

async function open(home: string, vault: Awaited<ReturnType<typeof createVault>>['vault']): Promise<RecordSession> {
  const s = await openRecordSession({ home, vault, flushWindowMs: 5 });
  if (!s.ok) throw new Error(`open: ${s.reason}`);
  return s.value;
}

export async function recordsBench(log: (m: string) => void = () => undefined): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-recordsbench-'));
  try {
    const { vault } = await createVault(dir, 'records bench password', { kdf: MIN_KDF });
    const ws = createWorkspace(deviceKeysOfVault(vault), 'bench', { now: Date.now() });
    saveWorkspace(dir, vault.dataKey, { workspaceId: ws.workspaceId, entries: ws.entries, epochKeys: new Map([[0, ws.epochKey]]), meta: { relay: 'ws://127.0.0.1:1/' } });
    log(`  creating ${RECORDS} records`);
    let s = await open(dir, vault);
    for (let i = 0; i < RECORDS; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, RECORDS - i) }, (_, k) =>
        s.records.create({ title: `Record ${String(i + k).padStart(4, '0')}`, fields: { room: String((i + k) % 40), dose: `${(i + k) % 9}mg` }, notes: 'seen at 09:00', tags: [`ward ${(i + k) % 5}`] })));
    }
    await s.close();

    log(`  list ${RECORDS} records cold and warm, index only, x${RUNS}`);
    const cold: number[] = [];
    const warm: number[] = [];
    const indexOnly: number[] = [];
    const detailed: number[] = [];
    const detailedAgain: number[] = [];
    const find: number[] = [];
    const findAll: number[] = [];
    let listed = 0;
    for (let r = 0; r < RUNS; r++) {
      s = await open(dir, vault);
      indexOnly.push(await timeMs(() => s.records.ids()));
      cold.push(await timeMs(async () => (listed = (await s.records.list()).length)));
      warm.push(await timeMs(() => s.records.list()));
      let all: Awaited<ReturnType<RecordSession['records']['list']>> = [];
      detailed.push(await timeMs(async () => (all = await s.records.list({ details: true }))));
      if (all.length !== RECORDS) throw new Error(`listed ${all.length} of ${RECORDS} with details`);
      detailedAgain.push(await timeMs(() => s.records.list({ details: true })));
      for (let k = 0; k < FIND_ROUNDS; k++) {
        for (const query of QUERIES) find.push(await timeMs(() => findRecords(all, { query, sort: k % 2 ? 'updated' : 'title' })));
        // The worst case: a one-letter query matching every record, all of them sorted by title.
        findAll.push(await timeMs(() => findRecords(all, { query: 'r', sort: 'title' })));
      }
      await s.close();
    }
    if (listed !== RECORDS) throw new Error(`listed ${listed} of ${RECORDS}`);
    const c = median(cold);
    const i = median(indexOnly);
    return {
      record_list_1k_cold_ms: round(c),
      record_list_1k_warm_ms: round(median(warm)),
      record_index_read_1k_ms: round(i),
      record_list_1k_cold_per_record_ms: round(c / RECORDS, 3),
      record_list_cold_vs_index_ratio: round(c / Math.max(i, 0.01), 1),
      find_list_build_1000_records_ms: round(median(detailed)),
      find_list_rebuild_1000_records_ms: round(median(detailedAgain)),
      find_1000_records_ms: round(median(find), 3),
      find_1000_records_all_match_ms: round(median(findAll), 3),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const recordsSuite: BenchSuite = {
  name: 'records',
  description: `record list over ${RECORDS} records read from each record (cold and warm) vs the index alone; find over them`,
  run: ctx => recordsBench(ctx.log),
};
