// A client process for the crash fault: opens the profile, syncs live through the given relay url,
// and updates a record field by field, printing "acked <key>" after each update call resolves,
// until it is killed. Usage: faultClientChild.ts HOME PASSWORD RELAY_URL RECORD_ID PREFIX
import { unlockVault } from '../../src/identity/vault/unlockVault.ts';
import { openNodeSync } from '../../src/docs/sync/openNodeSync.ts';

const [home, password, relayUrl, recordId, prefix] = process.argv.slice(2) as [string, string, string, string, string];
const v = await unlockVault(home, password);
if (!v.ok) throw new Error(`unlock: ${v.reason}`);
const r = await openNodeSync({ home, vault: v.value, flushWindowMs: 2, engine: { relayUrl, timeoutMs: 5_000 } });
if (!r.ok) throw new Error(`open: ${r.reason}`);
r.value.engine.on('error', () => undefined);
r.value.engine.start();
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const key = `${prefix}${i}`;
  await r.value.session.records.update(recordId, { fields: { [key]: 'v' } });
  process.stdout.write(`acked ${key}\n`);
}
