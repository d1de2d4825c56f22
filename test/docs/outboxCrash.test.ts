import * as A from '@automerge/automerge';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEnvelope } from '../../src/docs/envelope/openEnvelope.ts';
import { openNodeDocSession } from '../../src/docs/openNodeDocSession.ts';
import type { RecordDoc } from '../../src/docs/records/recordTypes.ts';
import { burstKeys } from './helpers/burstKeys.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { registerText } from '../../src/docs/records/readRecord.ts';

integrationTimeouts();

const dir = mkdtempSync(join(tmpdir(), 'cloister-burst-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('outbox durability', () => {
  it('alice is killed (SIGKILL) mid-burst of edits; after restart every edit whose call resolved is in the outbox or the document', async () => {
    const seed = 'burst-seed-1';
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers/editBurstChild.ts'), dir, seed, '100000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked = new Set<number>();
    let id = '';
    let buf = '';
    const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>(resolve => {
      child.stdout.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) {
          if (line.startsWith('id ')) id = line.slice(3);
          if (line.startsWith('acked ')) acked.add(Number(line.slice(6)));
        }
        if (acked.size >= 40) resolve();
      });
      child.on('exit', () => resolve());
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(40);

    const { dataKey, authority, device } = burstKeys(seed);
    const s = await openNodeDocSession({ dir, lockPath: join(dir, 'profile.lock'), dataKey, authority, device, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }) });
    if (!s.ok) throw new Error(s.reason);
    try {
      // The document as stored, merged with every envelope still waiting in the outbox.
      const handle = await s.value.session.open<RecordDoc>(id);
      let doc = handle ? A.clone(handle.doc()) : A.init<RecordDoc>();
      const fromOutbox: Uint8Array[] = [];
      for (const e of await s.value.session.outbox.pending(id)) {
        const r = openEnvelope(e.bytes, authority, s.value.session.cursors, { skipSequence: true });
        expect(r.ok).toBe(true);
        if (r.ok) fromOutbox.push(...r.value.changes);
      }
      [doc] = A.applyChanges(doc, fromOutbox);
      const missing = [...acked].filter(n => registerText(doc.fields?.[`k${n}`]) !== 'v');
      expect(missing).toEqual([]);
      // And the profile still works: the dead child's lock file was recovered.
      await s.value.records.update(id, { title: 'after crash' });
      expect((await s.value.records.get(id))!.title).toBe('after crash');
    } finally {
      await s.value.close();
    }
  });
});
