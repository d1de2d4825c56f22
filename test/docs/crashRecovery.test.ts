import * as A from '@automerge/automerge';
import { Repo } from '@automerge/automerge-repo';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { asKey, type DataKey } from '../../src/crypto/keys.ts';
import { DocSession } from '../../src/docs/DocSession.ts';
import { openNodeDocSession } from '../../src/docs/openNodeDocSession.ts';
import type { RecordDoc } from '../../src/docs/records/recordTypes.ts';
import { MemoryLock } from '../../src/docs/seqLock.ts';
import { EncryptedStorageAdapter } from '../../src/docs/storage/EncryptedStorageAdapter.ts';
import { MemoryStorageAdapter } from '../../src/docs/storage/MemoryStorageAdapter.ts';
import { burstKeys } from './helpers/burstKeys.ts';
import { makeDevice } from './fixtures.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { registerText } from '../../src/docs/records/readRecord.ts';

integrationTimeouts();

const dir = mkdtempSync(join(tmpdir(), 'cloister-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readerSession(authority: ReturnType<typeof burstKeys>['authority']) {
  const bob = makeDevice('bob');
  const dk = asKey<DataKey>(randomBytes(32));
  const storage = await EncryptedStorageAdapter.open(new MemoryStorageAdapter(), dk);
  const state = await EncryptedStorageAdapter.open(new MemoryStorageAdapter(), dk);
  if (!storage.ok || !state.ok) throw new Error('storage');
  return new DocSession({
    repo: new Repo({ storage: storage.value, network: [], sharePolicy: async () => false }),
    state: state.value, lock: new MemoryLock(), authority, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }),
    device: { deviceId: bob.deviceId, userId: 'bob', signingKey: bob.signingKey, signingPub: bob.signingPub },
  });
}

describe('crash recovery', () => {
  it("alice's process dies with a change made but not yet sealed; her next session seals it under the dead session's actor, so bob never waits on a missing dependency", async () => {
    const seed = 'crash-seed';
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers/unsealedCrashChild.ts'), dir, seed], { stdio: ['ignore', 'pipe', 'inherit'] });
    const id = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        const m = /ready (\S+)\n/.exec(buf);
        if (m) resolve(m[1]!);
      });
      child.on('exit', code => reject(new Error(`child exited ${code}`)));
    });
    const exited = new Promise(r => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;

    const { dataKey, authority, device } = burstKeys(seed);
    const s = await openNodeDocSession({ dir, lockPath: join(dir, 'profile.lock'), dataKey, authority, device, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }) });
    if (!s.ok) throw new Error(s.reason);
    expect((await s.value.records.get(id))!.notes).toBe('typed just before the crash');
    await s.value.records.update(id, { title: 'after crash' });
    await s.value.session.flush();

    const bob = await readerSession(authority);
    const report = await bob.applyRemote((await s.value.session.outbox.pending()).map(e => e.bytes));
    expect(report.rejected).toEqual([]);
    expect(report.held).toEqual([]);
    const doc = (await bob.open<RecordDoc>(id))!.doc();
    expect(doc.notes).toBe('typed just before the crash');
    expect(registerText(doc.title)).toBe('after crash');
    expect(A.getHeads(doc).sort()).toEqual(A.getHeads((await s.value.session.open<RecordDoc>(id))!.doc()).sort());
    await bob.close();
    await s.value.close();
  });
});
