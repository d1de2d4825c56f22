// "Sync now" requests from anywhere in the app (a membership change recorded, a workspace created) to
// whichever part runs the sync engine, without either importing the other: a DOM event in this tab.
const EVENT = 'cloister:sync-now';

/** Ask the running sync engine (if any) for a pass now, e.g. after recording a membership intent. */
export function requestSync(workspaceId: string): void {
  globalThis.dispatchEvent?.(new CustomEvent(EVENT, { detail: workspaceId }));
}

/** Call `cb` when a sync pass is requested for `workspaceId`; returns the unsubscribe function. */
export function onSyncRequest(workspaceId: string, cb: () => void): () => void {
  const listener = (e: Event) => {
    if ((e as CustomEvent<unknown>).detail === workspaceId) cb();
  };
  globalThis.addEventListener?.(EVENT, listener);
  return () => globalThis.removeEventListener?.(EVENT, listener);
}
