// Child for the sequence-number race: open a session on a shared profile and make `count` edits to
// the shared index document (by creating records), as fast as possible.
import { join } from 'node:path';
import { openNodeDocSession } from '../../../src/docs/openNodeDocSession.ts';
import { burstKeys } from './burstKeys.ts';

const [dir = '', seed = '', count = '20'] = process.argv.slice(2);
const { dataKey, authority, device } = burstKeys(seed);
const s = await openNodeDocSession({ dir, lockPath: join(dir, 'profile.lock'), dataKey, authority, device, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }), flushWindowMs: 1 });
if (!s.ok) throw new Error(s.reason);
await Promise.all(Array.from({ length: Number(count) }, (_, i) => s.value.records.create({ title: `r${i}` })));
await s.value.close();
process.stdout.write('done\n');
