// The relay's in-memory view of each workspace's membership chain, loaded from the store on first
// use and advanced link by link. Appends to one workspace are serialised here; the store's
// positional append (one transaction, unique per index) guards against a second instance writing
// the same position, and a lost race reloads the chain.
import { fail, ok, type Result } from '../src/crypto/result.ts';
import type { SigningSecretKey } from '../src/crypto/keys.ts';
import type { MembershipModel } from './membership.ts';
import type { RelayStore } from './store/RelayStore.ts';
import { KeyedLock } from './keyedLock.ts';

interface Loaded {
  state: unknown;
  links: Uint8Array[];
}

export type AppendOutcome = { index: number; link: Uint8Array; appended: boolean };

export class WorkspaceCache {
  private readonly loaded = new Map<string, Promise<Loaded | undefined>>();
  private readonly lock = new KeyedLock();

  constructor(
    private readonly store: RelayStore,
    private readonly model: MembershipModel,
    private readonly now: () => number,
    private readonly relayKey: SigningSecretKey,
    private readonly onLoadError: (workspaceId: string, reason: string) => void,
  ) {}

  /** The current membership state, or undefined if the relay has no (valid) log for this workspace. */
  async state(workspaceId: string): Promise<unknown | undefined> {
    return (await this.load(workspaceId))?.state;
  }

  /** The stored chain: links (entry + countersignature) by index. */
  async entries(workspaceId: string): Promise<Uint8Array[] | undefined> {
    return (await this.load(workspaceId))?.links;
  }

  private load(workspaceId: string): Promise<Loaded | undefined> {
    let p = this.loaded.get(workspaceId);
    if (!p) {
      p = (async () => {
        const links = await this.store.listLogEntries(workspaceId);
        if (links.length === 0) return undefined;
        const r = this.model.replayLog(links);
        if (!r.ok) {
          this.onLoadError(workspaceId, r.reason);
          return undefined;
        }
        return { state: r.value, links };
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

  /** Forget a workspace's cached chain (another instance appended): the next use reloads it. */
  invalidate(workspaceId: string): void {
    this.loaded.delete(workspaceId);
  }

  /** Forget every cached chain (notifications from other instances may have been missed). */
  invalidateAll(): void {
    this.loaded.clear();
  }

  /**
   * Sequence `entry` onto the chain: valid at the current head, countersigned, stored at the next
   * index. Idempotent: an entry already in the chain answers with its stored link.
   */
  append(workspaceId: string, entry: Uint8Array): Promise<Result<AppendOutcome, string>> {
    return this.lock.run(workspaceId, async () => {
      const cur = await this.load(workspaceId);
      const state = cur ? cur.state : this.model.emptyState(workspaceId);
      const links = cur?.links ?? [];
      const existing = this.model.indexOf(state, entry);
      if (existing !== undefined && cur) return ok({ index: existing, link: links[existing]!, appended: false });
      const next = this.model.sequence(state, entry, this.now(), this.relayKey);
      if (!next.ok) return fail(next.reason, next.detail);
      if (this.model.workspaceIdOf(next.value.state) !== workspaceId) return fail('entry_wrong_workspace');
      const { index, link } = next.value;
      if (!(await this.store.appendLogEntry(workspaceId, index, link))) {
        this.loaded.delete(workspaceId); // another instance got there first: reload next time
        return fail('log_stale', 'another append won this position');
      }
      this.loaded.set(workspaceId, Promise.resolve({ state: next.value.state, links: [...links, link] }));
      return ok({ index, link, appended: true });
    });
  }
}
