// The workspace's sync status, in words: online, offline or reconnecting; edits waiting to be sent
// and the offline time left under the lease; quarantined changes and damaged records when there are
// any; membership changes waiting or failed. If the relay was caught showing different member lists to
// different people (a fork), that alarm replaces everything else. The facts come from the tab that runs
// the sync engine (app.tabs, src/app/tabs/TabSync.ts); the wording from syncStatusWords.ts.
import { useEffect, useState } from 'react';
import { FORK_ALARM_TEXT, membershipSummary } from '../docs/sync/membershipStatus.ts';
import type { AppRecords } from './openAppRecords.ts';
import { describeSync, statusLine } from './syncStatusWords.ts';
import type { TabSyncView } from './tabs/TabSync.ts';
import './status.css';

interface Membership {
  fork: boolean;
  pending: number;
  failed: number;
}

const changes = (n: number) => `${n} membership change${n === 1 ? '' : 's'}`;

export function SyncStatus({ app }: { app: AppRecords }) {
  const [view, setView] = useState<TabSyncView>(app.tabs.view);
  const [membership, setMembership] = useState<Membership>({ fork: false, pending: 0, failed: 0 });

  useEffect(() => app.tabs.subscribe(setView), [app]);

  useEffect(() => {
    if (!app.relayUrl) return;
    let live = true;
    membershipSummary(app.sync).then(
      (m) => live && setMembership({ fork: m.fork !== null, pending: m.pending, failed: m.failed }),
      () => undefined,
    );
    return () => void (live = false);
  }, [app, view.membershipVersion]);

  const role = view.role;
  if (!app.relayUrl)
    return (
      <p className="muted sync" data-testid="sync-status" data-sync-role={role}>
        This workspace is kept in this browser only.
      </p>
    );
  if (membership.fork)
    return (
      <p className="error sync" role="alert" data-testid="sync-status" data-sync-role={role}>
        <strong data-testid="fork-alarm">{FORK_ALARM_TEXT}</strong>
      </p>
    );
  const w = describeSync(view.facts);
  return (
    <div className={`sync sync-status sync-${w.state}`} data-testid="sync-status" data-sync-role={role} role="status" aria-label={statusLine(w)}>
      <span className="sync-dot" aria-hidden="true" />
      <span data-testid="sync-state" data-state={w.state} className="sync-headline">
        {w.headline}
      </span>
      {(w.state === 'offline' || w.state === 'reconnecting') && !w.queued && <span className="sync-part"> — nothing waiting to be sent</span>}
      {w.queued && (
        <span className="sync-part" data-testid="queued-count" data-count={view.facts.queued}>
          {w.state === 'offline' || w.state === 'reconnecting' ? ' — ' : ' · '}
          {w.queued}
        </span>
      )}
      {w.lease && (
        <span className={w.leaseExpired ? 'sync-part error' : 'sync-part'} data-testid="lease-left" data-ms={view.facts.offlineRemainingMs ?? ''}>
          {' · '}
          {w.lease}
        </span>
      )}
      {w.problem && (
        <span className="sync-part error" data-testid="sync-problem" data-reason={w.problem.code} title={`reason: ${w.problem.code}`} aria-description={`reason code ${w.problem.code}`}>
          {' · '}
          {w.problem.text}
        </span>
      )}
      {w.quarantined && (
        <span className="sync-part error" data-testid="quarantined" data-count={view.facts.quarantined}>
          {' · '}
          {w.quarantined}
        </span>
      )}
      {w.damaged && (
        <span className="sync-part error" data-testid="damaged-records" data-count={view.facts.damaged}>
          {' · '}
          {w.damaged}
        </span>
      )}
      {membership.pending > 0 && (
        <span className="sync-part" data-testid="membership-pending">
          {' · '}
          {changes(membership.pending)} waiting to be sent
        </span>
      )}
      {membership.failed > 0 && (
        <span className="sync-part error" data-testid="membership-failed">
          {' · '}
          {changes(membership.failed)} could not be applied
        </span>
      )}
    </div>
  );
}
