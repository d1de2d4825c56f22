// `cloister quarantine list|export|resubmit`: the envelopes refused by a check, with their reasons.
// `resubmit` is the user's explicit way out of a document blocked by a lease_expired push: the same
// changes, same seq, sealed again under the current lease and put back in the outbox (then `cloister sync`).
import { writeFileSync } from 'node:fs';
// The docs modules load inside each action, so `cloister --help` stays fast.
import type { Command } from 'commander';
import type { RecordSession } from '../../docs/openSession.ts';
import { EXIT, fail, note, openVault, optionsOf, printJson, type CommonOptions } from '../context.ts';

const STATE_WORDS = {
  quarantined: '',
  resubmittable: 'resubmit with: cloister quarantine resubmit',
  resubmitted: 'resubmitted; leaves the quarantine when the relay acks it (cloister sync)',
} as const;

async function withSession<T>(cmd: Command, workspace: string | undefined, fn: (s: RecordSession, opts: CommonOptions) => Promise<T>): Promise<T> {
  const opts = optionsOf(cmd);
  const { describeOpenSessionFailure, openRecordSession } = await import('../../docs/openSession.ts');
  const vault = await openVault(opts);
  const s = await openRecordSession({ home: opts.home, vault, ...(workspace !== undefined ? { workspace } : {}) });
  if (!s.ok) fail(describeOpenSessionFailure(s));
  try {
    return await fn(s.value, opts);
  } finally {
    await s.value.close();
  }
}

export function register(program: Command): void {
  const q = program.command('quarantine').description('list, export and resubmit envelopes refused by a check (with reasons)');
  const pick = (c: Command) => c.option('--workspace <name>', 'the workspace (default: the only one in the profile)');

  pick(q.command('list'))
    .description('list quarantined envelopes: id, reason, document, seq, when, and what can be done')
    .action(async (o: { workspace?: string }, cmd: Command) => {
      const [{ describeEnvelopeRejection }, { listQuarantine }] = await Promise.all([import('../../docs/rejections.ts'), import('../../docs/sync/resubmit.ts')]);
      await withSession(cmd, o.workspace, async (s, opts) => {
        const items = (await listQuarantine(s.session)).map(({ entry: e, header: h, state }) => ({
          id: e.id,
          reason: e.reason,
          description: describeEnvelopeRejection(e.reason),
          ...(e.detail ? { detail: e.detail } : {}),
          docId: h?.docId ?? null,
          deviceId: h?.deviceId ?? null,
          seq: h?.seq ?? null,
          at: new Date(e.at).toISOString(),
          source: e.source,
          state,
        }));
        if (opts.json) return printJson(items);
        if (items.length === 0) return void process.stdout.write('quarantine is empty\n');
        const lines = items.map(i =>
          `${i.id}  ${i.reason}  doc ${i.docId ?? '?'} seq ${i.seq ?? '?'}  ${i.at}  [${i.source}]  ${i.description}${i.detail ? ` (${i.detail})` : ''}${STATE_WORDS[i.state] ? ` — ${STATE_WORDS[i.state]}` : ''}`,
        );
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  pick(q.command('export'))
    .description('export the quarantine as JSON (envelopes base64url, reasons); no plaintext unless --decrypt')
    .option('--out <file>', 'write to this file instead of standard output')
    .option('--decrypt', 'also include the decrypted changes (plaintext!) for your own records')
    .action(async (o: { workspace?: string; out?: string; decrypt?: boolean }, cmd: Command) => {
      const { exportQuarantine } = await import('../../docs/sync/quarantineExport.ts');
      await withSession(cmd, o.workspace, async s => {
        const ex = await exportQuarantine(s.session, s.live, { decrypt: o.decrypt === true });
        const text = `${JSON.stringify(ex, null, 2)}\n`;
        if (!o.out) return void process.stdout.write(text);
        writeFileSync(o.out, text, { mode: 0o600 });
        note(`exported ${ex.items.length} quarantined envelope(s) to ${o.out}${o.decrypt ? ' (contains plaintext: keep it safe)' : ''}`);
      });
    });

  pick(q.command('resubmit [ids...]'))
    .description('seal lease_expired envelopes again under the current lease (same changes and seq) and queue them; then cloister sync')
    .option('--all', 'every envelope of this device refused as lease_expired')
    .action(async (ids: string[], o: { workspace?: string; all?: boolean }, cmd: Command) => {
      if (!o.all && ids.length === 0) fail('name the quarantine ids to resubmit (cloister quarantine list), or pass --all', EXIT.usage);
      if (o.all && ids.length > 0) fail('pass either ids or --all, not both', EXIT.usage);
      const { resubmitQuarantined } = await import('../../docs/sync/resubmit.ts');
      await withSession(cmd, o.workspace, async (s, opts) => {
        const r = await resubmitQuarantined(s, o.all ? 'all' : ids);
        if (!r.ok) fail(r.message);
        const v = r.value;
        if (opts.json) printJson(v);
        else {
          for (const k of v.skipped) note(`skipped ${k.id}: ${k.why}`);
          process.stdout.write(
            `resubmitted ${v.resubmitted.length} envelope(s)${v.resealedBehind ? ` and re-sealed ${v.resealedBehind} waiting behind them` : ''} under lease ${v.leaseId}; run \`cloister sync\` to push them\n`,
          );
        }
        if (v.resubmitted.length === 0 && v.skipped.length > 0 && !o.all) process.exitCode = EXIT.failure;
      });
    });
}
