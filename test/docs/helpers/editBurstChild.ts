// Child process for the crash test: create a record, then fire edits every millisecond and print
// "acked N" as each edit call resolves. The test SIGKILLs it mid-burst.
import { join } from 'node:path';
import { openNodeDocSession } from '../../../src/docs/openNodeDocSession.ts';
import { burstKeys } from './burstKeys.ts';

const [dir = '', seed = '', count = '200'] = process.argv.slice(2);
const { dataKey, authority, device } = burstKeys(seed);
const s = await openNodeDocSession({ dir, lockPath: join(dir, 'profile.lock'), dataKey, authority, device, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }), flushWindowMs: 20 });
if (!s.ok) throw new Error(s.reason);
const id = await s.value.records.create({ title: 'burst' });
process.stdout.write(`id ${id}\n`);
for (let i = 1; i <= Number(count); i++) {
  void s.value.records.update(id, { fields: { [`k${i}`]: 'v' } }).then(() => process.stdout.write(`acked ${i}\n`));
  await new Promise(r => setTimeout(r, 1));
}
await s.value.close();
process.stdout.write('done\n');
