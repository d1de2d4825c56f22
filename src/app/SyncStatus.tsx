// Live sync for a workspace that has a relay (joined from an invitation): the sync engine pushes each
// edit, follows the relay and reconnects by itself. Offline, edits stay in the encrypted outbox.
// Membership changes made here that still wait for the relay are counted, and if the relay was caught
// showing different member lists to different people (a fork), that alarm replaces everything else.
import { useEffect, useState } from 'react';
import { FORK_ALARM_TEXT, membershipSummary } from '../docs/sync/membershipStatus.ts';
import { SyncEngine } from '../docs/sync/SyncEngine.ts';
import type { AppRecords } from './openAppRecords.ts';

interface Membership {
  fork: boolean;
  pending: number;
  failed: number;
}

export function SyncStatus({ app }: { app: AppRecords }) {
  const [text, setText] = useState('Connecting to the relay…');
  const [problem, setProblem] = useState('');
  const [membership, setMembership] = useState<Membership>({ fork: false, pending: 0, failed: 0 });

  useEffect(() => {
    if (!app.relayUrl) return;
    let live = true;
    const refresh = () =>
      void membershipSummary(app.sync)
        .then((m) => live && setMembership({ fork: m.fork !== null, pending: m.pending, failed: m.failed }))
        .catch(() => undefined);
    refresh();
    const engine = new SyncEngine(app.sync, { relayUrl: app.relayUrl });
    const offs = [
      engine.on('synced', (s) => {
        setProblem(s.access === 'member' ? '' : `the relay refuses this device (${s.access})`);
        setText(`Synced ${new Date().toLocaleTimeString()} · ${s.outbox} waiting to send`);
        refresh();
      }),
      engine.on('disconnected', () => setText('Offline: edits are kept here and sent when the relay is back')),
      engine.on('error', (e) => {
        setProblem(e.message);
        refresh();
      }),
    ];
    engine.start();
    return () => {
      live = false;
      for (const off of offs) off();
      void engine.stop();
    };
  }, [app]);

  if (!app.relayUrl) return <p className="muted sync" data-testid="sync-status">This workspace is kept in this browser only.</p>;
  if (membership.fork)
    return (
      <p className="error sync" role="alert" data-testid="sync-status">
        <strong data-testid="fork-alarm">{FORK_ALARM_TEXT}</strong>
      </p>
    );
  return (
    <p className="muted sync" data-testid="sync-status">
      {text}
      {membership.pending > 0 && (
        <span data-testid="membership-pending">
          {' '}· {membership.pending} membership change{membership.pending === 1 ? '' : 's'} waiting to be sent
        </span>
      )}
      {membership.failed > 0 && (
        <span className="error" data-testid="membership-failed">
          {' '}· {membership.failed} membership change{membership.failed === 1 ? '' : 's'} could not be applied
        </span>
      )}
      {problem && <span className="error"> · {problem}</span>}
    </p>
  );
}
