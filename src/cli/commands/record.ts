// Record commands: add, list, show, edit, rm (DESIGN → Interfaces). Each opens the vault, the
// workspace (the only one, or --workspace NAME) and its encrypted local storage; an edit returns
// once its signed, encrypted envelope is in the outbox. The session's modules (storage, Automerge)
// load inside withRecords, so `cloister --help` stays fast.
import { termSafe, termSafeLines } from '../terminal.ts';
import { Command } from 'commander';
import type { RecordStore } from '../../docs/records/RecordStore.ts';
import type { Author, RecordSummary, RecordView } from '../../docs/records/recordTypes.ts';
import { findRecords, RECORD_SORTS, type RecordSort } from '../../docs/records/findRecords.ts';
import { personLabel, type NameOf } from '../../docs/records/personLabel.ts';
import type { RecordSession } from '../../docs/openSession.ts';
import { fail, openVault, optionsOf, printJson, type CommonOptions } from '../context.ts';
import { fromAgent } from '../agent/fromAgent.ts';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function parseFields(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) fail(`--field needs KEY=VALUE, got ${JSON.stringify(p)}`, 2);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** Open the session for a record command, run `fn`, and always flush and close. */
export async function withRecords<T>(cmd: Command, workspace: string | undefined, fn: (records: RecordStore, s: RecordSession, opts: CommonOptions) => Promise<T>): Promise<T> {
  const opts = optionsOf(cmd);
  const [{ describeOpenSessionFailure, openRecordSession }, { RecordError }, { OfflineLeaseExpiredError }, { EditRefusedError }] = await Promise.all([
    import('../../docs/openSession.ts'),
    import('../../docs/records/RecordStore.ts'),
    import('../../docs/sync/LeaseClock.ts'),
    import('../../docs/DocSession.ts'),
  ]);
  const vault = await openVault(opts);
  const s = await openRecordSession({ home: opts.home, vault, ...(workspace !== undefined ? { workspace } : {}) });
  if (!s.ok) fail(describeOpenSessionFailure(s));
  try {
    return await fn(s.value.records, s.value, opts);
  } catch (e) {
    if (e instanceof RecordError || e instanceof OfflineLeaseExpiredError || e instanceof EditRefusedError) fail(e.message);
    throw e;
  } finally {
    await s.value.close();
  }
}

/** A full id, or an unambiguous prefix of one (people copy the first few characters). */
export async function resolveId(records: RecordStore, id: string): Promise<string> {
  const { isValidDocumentId } = await import('@automerge/automerge-repo');
  if (isValidDocumentId(id) && (await records.get(id))) return id;
  const matches = (await records.list({ includeDeleted: true })).filter(r => r.id.startsWith(id));
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) fail(`${id} matches ${matches.length} records; give more characters`);
  fail(`no record ${id}`);
}

/** Display names from the workspace's membership log (sealed names this profile can open). */
export function nameOfSession(s: RecordSession): NameOf {
  return (userId) => s.live.state.members.get(userId)?.name ?? s.workspace.state.members.get(userId)?.name;
}

/** Display names as the agent sends them (cloister agent). */
const nameOfMap = (names: Record<string, string>): NameOf => (userId) => (Object.hasOwn(names, userId) ? names[userId] : undefined);

/** `--field` pairs as the agent takes them: [key, value] (no object on the wire). */
const pairs = <V>(fields: Record<string, V>): [string, V][] => Object.entries(fields);

/** A claimed time as ISO text. Another member's device sets it (any u64): one out of Date's range is said, never thrown. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `(claimed time out of range: ${ms})` : d.toISOString();
}

const when = (a: Author) => isoTime(a.claimedTime);

function showText(r: RecordView, nameOf?: NameOf): string {
  const who = (a: Author) => `${personLabel(a.userId, nameOf)} (device ${a.deviceId})`;
  const lines = [`${termSafe(r.title)}${r.deleted ? '  (deleted)' : ''}`, `  id       ${r.id}`];
  const conflict = (path: string) => (r.conflicts[path] ? `   [conflict: also ${r.conflicts[path]!.map(v => JSON.stringify(v)).join(', ')}]` : '');
  if (r.conflicts.title) lines.push(`  title${conflict('title')}`);
  for (const [k, v] of Object.entries(r.fields).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${termSafe(k)}: ${termSafe(v)}${conflict(`fields.${k}`)}`);
  if (r.tags.length) lines.push(`  tags     ${r.tags.map(termSafe).join(', ')}`);
  if (r.createdBy) lines.push(`  created  ${when(r.createdBy)} by ${who(r.createdBy)}`);
  if (r.updatedBy.length) lines.push(`  updated  ${when(r.updatedBy[0]!)} by ${r.updatedBy.map(who).join(', ')}`);
  if (Object.keys(r.conflicts).length) lines.push(`  conflicts: settle with cloister record resolve ${r.id} --title T / --field KEY=VALUE`);
  if (r.damaged) lines.push(`  damaged: ${r.damaged.join(', ')} (not of the expected type; shown as far as readable)`);
  if (r.notes) lines.push('', ...termSafeLines(r.notes).map(l => `  ${l}`));
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  const record = program.command('record').description('add, list, show, edit and delete records in a workspace');
  const ws = (c: Command) => c.option('--workspace <name>', 'the workspace (default: the only one in the profile)');

  ws(record.command('add'))
    .description('add a record and print its id')
    .requiredOption('--title <title>', 'the title')
    .option('--field <key=value>', 'a field (repeatable)', collect, [])
    .option('--tag <tag>', 'a tag (repeatable)', collect, [])
    .option('--notes <text>', 'collaborative notes text')
    .action(async (o: { title: string; field: string[]; tag: string[]; notes?: string; workspace?: string }, cmd: Command) => {
      const fields = parseFields(o.field);
      const viaAgent = await fromAgent<{ id: string }>(optionsOf(cmd), 'record.add', o.workspace, { title: o.title, fields: pairs(fields), tags: o.tag, ...(o.notes !== undefined ? { notes: o.notes } : {}) });
      if (viaAgent) {
        if (optionsOf(cmd).json) printJson({ id: viaAgent.id });
        else process.stdout.write(`${viaAgent.id}\n`);
        return;
      }
      await withRecords(cmd, o.workspace, async (records, _s, opts) => {
        const id = await records.create({ title: o.title, fields, tags: o.tag, ...(o.notes !== undefined ? { notes: o.notes } : {}) });
        if (opts.json) printJson({ id });
        else process.stdout.write(`${id}\n`);
      });
    });

  ws(record.command('list'))
    .description('list records (id and title); --deleted lists the trash; --search, --tag and --sort find records (on this device only)')
    .option('--deleted', 'list only deleted records (restore one with record restore ID)')
    .option('--all', 'include deleted records')
    .option('--search <text>', 'only records containing every word (title, fields, notes, tags; case and accents ignored)')
    .option('--tag <tag>', 'only records with this tag')
    .option('--sort <order>', `order: ${RECORD_SORTS.join(', ')} (updated: newest verified change first)`)
    .action(async (o: { all?: boolean; deleted?: boolean; search?: string; tag?: string; sort?: string; workspace?: string }, cmd: Command) => {
      if (o.sort !== undefined && !RECORD_SORTS.includes(o.sort as RecordSort)) fail(`--sort must be one of ${RECORD_SORTS.join(', ')}`, 2);
      const finding = o.search !== undefined || o.tag !== undefined || o.sort !== undefined;
      const which = { includeDeleted: o.all === true, onlyDeleted: o.deleted === true, ...(finding ? { details: true } : {}) };
      const print = (listed: RecordSummary[], nameOf: NameOf, opts: CommonOptions) => {
        const list = finding
          ? findRecords(listed, { ...(o.search !== undefined ? { query: o.search } : {}), ...(o.tag !== undefined ? { tag: o.tag } : {}), sort: (o.sort as RecordSort | undefined) ?? 'title', nameOf })
          : listed;
        if (opts.json) return printJson(list.map(({ searchText: _, ...r }) => r));
        // One write for the whole list: a thousand writes to a pipe cost more than building the text.
        const lines = list.map((r) => {
          const updated = r.updatedAt !== undefined && o.sort !== undefined && o.sort !== 'title'
            ? `  (${isoTime(r.updatedAt)}${r.updatedBy ? ` by ${personLabel(r.updatedBy, nameOf)}` : ''})`
            : '';
          return `${r.id}  ${termSafe(r.title)}${r.deleted ? '  (deleted)' : ''}${r.conflicted ? '  (conflict)' : ''}${r.damaged ? '  (damaged)' : ''}${updated}\n`;
        });
        if (lines.length) process.stdout.write(lines.join(''));
      };
      const viaAgent = await fromAgent<{ records: RecordSummary[]; names: Record<string, string> }>(optionsOf(cmd), 'record.list', o.workspace, which);
      if (viaAgent) return print(viaAgent.records, nameOfMap(viaAgent.names), optionsOf(cmd));
      // Without the agent, from the record-summary cache: it opens only documents changed since it was written.
      const opts = optionsOf(cmd);
      const vault = await openVault(opts);
      const { listCached } = await import('../../docs/records/cachedList.ts');
      const listed = await listCached({ home: opts.home, vault, ...(o.workspace !== undefined ? { workspace: o.workspace } : {}) }, which);
      if (!listed.ok) fail((await import('../../docs/openSession.ts')).describeOpenSessionFailure(listed));
      print(listed.value.records, listed.value.nameOf, opts);
    });

  ws(record.command('show'))
    .description('show one record')
    .argument('<id>', 'record id (or an unambiguous prefix)')
    .action(async (id: string, o: { workspace?: string }, cmd: Command) => {
      const viaAgent = await fromAgent<{ record: RecordView; names: Record<string, string> }>(optionsOf(cmd), 'record.get', o.workspace, { id });
      if (viaAgent) {
        if (optionsOf(cmd).json) printJson(viaAgent.record);
        else process.stdout.write(showText(viaAgent.record, nameOfMap(viaAgent.names)));
        return;
      }
      await withRecords(cmd, o.workspace, async (records, s, opts) => {
        const r = (await records.get(await resolveId(records, id)))!;
        if (opts.json) printJson(r);
        else process.stdout.write(showText(r, nameOfSession(s)));
      });
    });

  ws(record.command('edit'))
    .description('change a record\'s title, fields, tags or notes')
    .argument('<id>', 'record id (or an unambiguous prefix)')
    .option('--title <title>', 'new title')
    .option('--field <key=value>', 'set a field (repeatable)', collect, [])
    .option('--unset <key>', 'remove a field (repeatable)', collect, [])
    .option('--tag <tag>', 'replace the tags with these (repeatable)', collect, [])
    .option('--notes <text>', 'new notes text (merged character by character with concurrent edits)')
    .action(async (id: string, o: { title?: string; field: string[]; unset: string[]; tag: string[]; notes?: string; workspace?: string }, cmd: Command) => {
      const fields: Record<string, string | null> = parseFields(o.field);
      for (const k of o.unset) fields[k] = null;
      if (o.title === undefined && !Object.keys(fields).length && !o.tag.length && o.notes === undefined) fail('nothing to change (give --title, --field, --unset, --tag or --notes)', 2);
      const viaAgent = await fromAgent<{ id: string }>(optionsOf(cmd), 'record.edit', o.workspace, {
        id, ...(o.title !== undefined ? { title: o.title } : {}), fields: pairs(fields), tags: o.tag, ...(o.notes !== undefined ? { notes: o.notes } : {}),
      });
      if (viaAgent) {
        if (optionsOf(cmd).json) printJson({ id: viaAgent.id, ok: true });
        return;
      }
      await withRecords(cmd, o.workspace, async (records, _s, opts) => {
        const full = await resolveId(records, id);
        await records.update(full, {
          ...(o.title !== undefined ? { title: o.title } : {}),
          ...(Object.keys(fields).length ? { fields } : {}),
          ...(o.tag.length ? { tags: o.tag } : {}),
          ...(o.notes !== undefined ? { notes: o.notes } : {}),
        });
        if (opts.json) printJson({ id: full, ok: true });
      });
    });

  ws(record.command('rm'))
    .description('delete a record (a tombstone: concurrent edits are kept, the record stays deleted)')
    .argument('<id>', 'record id (or an unambiguous prefix)')
    .action(async (id: string, o: { workspace?: string }, cmd: Command) => {
      const viaAgent = await fromAgent<{ id: string }>(optionsOf(cmd), 'record.rm', o.workspace, { id });
      if (viaAgent) {
        if (optionsOf(cmd).json) printJson({ id: viaAgent.id, deleted: true });
        return;
      }
      await withRecords(cmd, o.workspace, async (records, _s, opts) => {
        const full = await resolveId(records, id);
        await records.remove(full);
        if (opts.json) printJson({ id: full, deleted: true });
      });
    });

  ws(record.command('restore'))
    .description('bring a deleted record back from the trash (with every edit made to it meanwhile)')
    .argument('<id>', 'record id (or an unambiguous prefix)')
    .action(async (id: string, o: { workspace?: string }, cmd: Command) => {
      const viaAgent = await fromAgent<{ id: string }>(optionsOf(cmd), 'record.restore', o.workspace, { id });
      if (viaAgent) {
        if (optionsOf(cmd).json) printJson({ id: viaAgent.id, deleted: false });
        return;
      }
      await withRecords(cmd, o.workspace, async (records, _s, opts) => {
        const full = await resolveId(records, id);
        await records.restore(full);
        if (opts.json) printJson({ id: full, deleted: false });
      });
    });

  ws(record.command('resolve'))
    .description('settle conflicting values: assign the title or field value that should stand')
    .argument('<id>', 'record id (or an unambiguous prefix)')
    .option('--title <title>', 'the title that stands')
    .option('--field <key=value>', 'the value that stands for a field (repeatable)', collect, [])
    .action(async (id: string, o: { title?: string; field: string[]; workspace?: string }, cmd: Command) => {
      const fields = parseFields(o.field);
      if (o.title === undefined && !Object.keys(fields).length) fail('nothing to resolve (give --title or --field KEY=VALUE)', 2);
      const viaAgent = await fromAgent<{ id: string; conflicts: string[] }>(optionsOf(cmd), 'record.resolve', o.workspace, { id, ...(o.title !== undefined ? { title: o.title } : {}), fields: pairs(fields) });
      if (viaAgent) {
        if (optionsOf(cmd).json) printJson({ id: viaAgent.id, conflicts: viaAgent.conflicts });
        else if (viaAgent.conflicts.length) process.stderr.write(`still in conflict: ${viaAgent.conflicts.join(', ')}\n`);
        return;
      }
      await withRecords(cmd, o.workspace, async (records, _s, opts) => {
        const full = await resolveId(records, id);
        await records.resolve(full, { ...(o.title !== undefined ? { title: o.title } : {}), fields });
        const left = Object.keys((await records.get(full))!.conflicts);
        if (opts.json) printJson({ id: full, conflicts: left });
        else if (left.length) process.stderr.write(`still in conflict: ${left.join(', ')}\n`);
      });
    });
}
