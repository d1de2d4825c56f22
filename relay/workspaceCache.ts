// The relay's in-memory view of each workspace's membership state, loaded from the store on first
// use and advanced entry by entry. Appends to one workspace are serialised here (single instance);
// the store's positional append guards against a second instance writing the same log.
import { equalBytes } from '../src/crypto/bytes.ts';
import { fail, ok, type Result } from '../src/crypto/result.ts';
import type { MembershipModel } from './membership.ts';
import type { RelayStore } from './store/RelayStore.ts';
import { KeyedLock } from './keyedLock.ts';

interface Loaded {
  state: unknown;
  entries: Uint8Array[];
}

export type AppendOutcome = { index: number; appended: boolean };

export class WorkspaceCache {
  private readonly loaded = new Map<string, Promise<Loaded | undefined>>();
  private readonly lock = new KeyedLock();

  constructor(
    private readonly store: RelayStore,
    private readonly model: MembershipModel,
    private readonly now: () => number,
    private readonly onLoadError: (workspaceId: string, reason: string) => void,
  ) {}

  /** The current membership state, or undefined if the relay has no (valid) log for this workspace. */
  async state(workspaceId: string): Promise<unknown | undefined> {
    return (await this.load(workspaceId))?.state;
  }

  async entries(workspaceId: string): Promise<Uint8Array[] | undefined> {
    return (await this.load(workspaceId))?.entries;
  }

  private load(workspaceId: string): Promise<Loaded | undefined> {
    let p = this.loaded.get(workspaceId);
    if (!p) {
      p = (async () => {
        const entries = await this.store.listLogEntries(workspaceId);
        if (entries.length === 0) return undefined;
        const r = this.model.replayLog(entries, this.now());
        if (!r.ok) {
          this.onLoadError(workspaceId, r.reason);
          return undefined;
        }
        return { state: r.value, entries };
      })();
      p.catch(() => this.loaded.delete(workspaceId));
      this.loaded.set(workspaceId, p);
      // An unknown workspace may be created later: don't cache its absence.
      void p.then((v) => {
        if (!v && this.loaded.get(workspaceId) === p) this.loaded.delete(workspaceId);
      }, () => undefined);
    }
    return p;
  }

  /** Validate `entry` with the identity library and store it at the end of the log. Idempotent on identical bytes. */
  append(workspaceId: string, entry: Uint8Array): Promise<Result<AppendOutcome, string>> {
    return this.lock.run(workspaceId, async () => {
      const cur = await this.load(workspaceId);
      const entries = cur?.entries ?? [];
      const existing = entries.findIndex((e) => equalBytes(e, entry));
      if (existing >= 0) return ok({ index: existing, appended: false });
      const next = this.model.appendEntry(cur ? cur.state : this.model.emptyState(workspaceId), entry, this.now());
      if (!next.ok) return fail(next.reason, next.detail);
      if (this.model.workspaceIdOf(next.value) !== workspaceId) return fail('entry_wrong_workspace');
      const index = entries.length;
      if (!(await this.store.appendLogEntry(workspaceId, index, entry))) {
        this.loaded.delete(workspaceId); // another writer got there first: reload next time
        return fail('log_conflict');
      }
      this.loaded.set(workspaceId, Promise.resolve({ state: next.value, entries: [...entries, entry] }));
      return ok({ index, appended: true });
    });
  }
}
