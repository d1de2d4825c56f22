import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../src/protocol/envelope.ts';
import { openNodeDocSession } from '../../src/docs/openNodeDocSession.ts';
import { indexDocIdFor } from '../../src/docs/records/indexDocId.ts';
import { FileLock } from '../../src/docs/seqLockFile.ts';
import { burstKeys } from './helpers/burstKeys.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cloister-seq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sequence numbers across processes', () => {
  it('two CLI processes on one profile never reuse a (device, doc, seq)', async () => {
    const seed = 'seq-race';
    const child = join(import.meta.dirname, 'helpers/seqRaceChild.ts');
    // Both start on an empty profile and write into the same index document.
    await Promise.all([0, 1].map(() => run(process.execPath, ['--import', 'tsx', child, dir, seed, '15'], { timeout: CHILD_MS }).catch(e => { console.log('CHILD', e.code, e.stdout, e.stderr); throw e; })));
    const { dataKey, authority, device } = burstKeys(seed);
    const s = await openNodeDocSession({ dir, lockPath: join(dir, 'profile.lock'), dataKey, authority, device, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }) });
    if (!s.ok) throw new Error(s.reason);
    const seen = new Map<string, string>();
    const indexSeqs: number[] = [];
    for (const e of await s.value.session.outbox.pending()) {
      const h = decodeEnvelope(e.bytes);
      if (!h.ok) throw new Error(h.reason);
      const k = `${h.value.header.deviceId}/${h.value.header.docId}/${h.value.header.seq}`;
      expect(seen.has(k), `reused ${k}`).toBe(false);
      seen.set(k, e.docId);
      if (h.value.header.docId === indexDocIdFor('ws-burst')) indexSeqs.push(h.value.header.seq);
    }
    // Every create touched the index: 30 edits from two processes, seqs 1..n with no gap.
    expect(indexSeqs.length).toBeGreaterThanOrEqual(2);
    expect(indexSeqs.sort((a, b) => a - b)).toEqual(indexSeqs.map((_, i) => i + 1));
    expect((await s.value.records.list()).length).toBe(30);
    await s.value.close();
  });

  it("a lock file left by a dead process is recovered; a live holder's is waited for", async () => {
    const lockPath = join(dir, 'stale.lock');
    writeFileSync(lockPath, '999999999'); // no such pid
    const lock = new FileLock(lockPath, 2000);
    expect(await lock.run(async () => 'got it')).toBe('got it');
    writeFileSync(lockPath, String(process.ppid)); // alive (our parent), not us
    await expect(new FileLock(lockPath, 200).run(async () => 'never')).rejects.toThrow(/held too long/);
    rmSync(lockPath);
  });

  it('many waiters recovering the same stale lock still exclude each other', async () => {
    const lockPath = join(dir, 'stale2.lock');
    writeFileSync(lockPath, '999999999');
    let inside = 0;
    let maxInside = 0;
    // Separate FileLock objects: they share nothing in memory, only the file (like separate processes).
    await Promise.all(
      Array.from({ length: 8 }, () =>
        new FileLock(lockPath, 10_000).run(async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise(r => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
  });
});
