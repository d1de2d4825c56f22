// Which sessions (actors) this device has run on this profile, so one that crashed can be recovered:
// changes it made but never sealed (inside the flush window) are sealed by the next session under the
// crashed session's nonce. Without that, peers would hold every later change as missing dependencies.
// A session registers before its first edit and unregisters on a clean close.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';
import { fromHex, fromUtf8, toHex, utf8 } from '../crypto/bytes.ts';

const PREFIX = 'cloister-session';

export interface SessionRecord {
  nonce: Uint8Array;
  pid?: number;
  startedAt: number;
}

/** Node: alive while its pid runs. Elsewhere (no pids): assume alive, i.e. never recover another tab's session. */
export function defaultIsSessionAlive(rec: SessionRecord): boolean {
  const proc = (globalThis as { process?: { pid: number; kill(pid: number, sig: 0): void } }).process;
  if (!proc || rec.pid === undefined) return true;
  if (rec.pid === proc.pid) return true;
  try {
    proc.kill(rec.pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code !== 'ESRCH';
  }
}

export class SessionRegistry {
  constructor(private readonly storage: StorageAdapterInterface) {}

  async register(nonce: Uint8Array, startedAt: number): Promise<void> {
    const pid = (globalThis as { process?: { pid: number } }).process?.pid;
    await this.storage.save([PREFIX, toHex(nonce)], utf8(JSON.stringify({ pid, startedAt })));
  }

  async unregister(nonce: Uint8Array): Promise<void> {
    await this.storage.remove([PREFIX, toHex(nonce)]);
  }

  async list(): Promise<SessionRecord[]> {
    const out: SessionRecord[] = [];
    for (const c of await this.storage.loadRange([PREFIX])) {
      const nonce = c.key[1] ? fromHex(c.key[1]) : undefined;
      if (!c.data || !nonce) continue;
      try {
        const r = JSON.parse(fromUtf8(c.data)) as { pid?: number; startedAt: number };
        out.push({ nonce, ...(typeof r.pid === 'number' ? { pid: r.pid } : {}), startedAt: Number(r.startedAt) || 0 });
      } catch {
        // unreadable: ignore (recovery is best effort on top of the outbox guarantee)
      }
    }
    return out;
  }
}
