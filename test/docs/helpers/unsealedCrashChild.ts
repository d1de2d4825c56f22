// Child for the crash-recovery test: create a record (sealed), then change it directly through the
// handle with a long flush window, let the Repo write it to disk, say "ready", and wait to be killed.
import { join } from 'node:path';
import { openNodeDocSession } from '../../../src/docs/openNodeDocSession.ts';
import type { RecordDoc } from '../../../src/docs/records/recordTypes.ts';
import { burstKeys } from './burstKeys.ts';

const [dir = '', seed = ''] = process.argv.slice(2);
const { dataKey, authority, device } = burstKeys(seed);
const s = await openNodeDocSession({ dir, lockPath: join(dir, 'profile.lock'), dataKey, authority, device, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }), flushWindowMs: 600_000 });
if (!s.ok) throw new Error(s.reason);
// The flush window is long, so flush by hand until the create call resolves.
let id = '';
const created = s.value.records.create({ title: 'before crash' }).then(x => (id = x));
while (!id) {
  await s.value.session.flush();
  await Promise.race([created, new Promise(r => setTimeout(r, 10))]);
}
const handle = (await s.value.session.open<RecordDoc>(id))!;
handle.change(d => {
  d.notes = 'typed just before the crash';
});
await s.value.session.repo.flush();
process.stdout.write(`ready ${id}\n`);
setInterval(() => undefined, 1000);
