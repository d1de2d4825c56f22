// Live sync for a workspace that has a relay (joined from an invitation): the sync engine pushes each
// edit, follows the relay and reconnects by itself. Offline, edits stay in the encrypted outbox.
import { useEffect, useState } from 'react';
import { SyncEngine } from '../docs/sync/SyncEngine.ts';
import type { AppRecords } from './openAppRecords.ts';

export function SyncStatus({ app }: { app: AppRecords }) {
  const [text, setText] = useState('Connecting to the relay…');
  const [problem, setProblem] = useState('');

  useEffect(() => {
    if (!app.relayUrl) return;
    const engine = new SyncEngine(app.sync, { relayUrl: app.relayUrl });
    const offs = [
      engine.on('synced', (s) => {
        setProblem(s.access === 'member' ? '' : `the relay refuses this device (${s.access})`);
        setText(`Synced ${new Date().toLocaleTimeString()} · ${s.outbox} waiting to send`);
      }),
      engine.on('disconnected', () => setText('Offline: edits are kept here and sent when the relay is back')),
      engine.on('error', (e) => setProblem(e.message)),
    ];
    engine.start();
    return () => {
      for (const off of offs) off();
      void engine.stop();
    };
  }, [app]);

  if (!app.relayUrl) return <p className="muted sync" data-testid="sync-status">This workspace is kept in this browser only.</p>;
  return (
    <p className="muted sync" data-testid="sync-status">
      {text}
      {problem && <span className="error"> · {problem}</span>}
    </p>
  );
}
