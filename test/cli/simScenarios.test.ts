// Scripted simulation scenarios (docs/SCENARIOS.md): every scenario shipped in docs/scenarios passes,
// and fails, naming the assertion, when its key defence is switched off for the run. Scenario files are
// untrusted input: a bad one is a one-line error naming the step and a reason code, before anything runs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatScenarioSummary, parseScenario, runScenario, runScenarioFile, ScenarioError, validateScenario, type ScenarioReport } from '../../src/cli/sim/scenario/index.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const DIR = join(import.meta.dirname, '../../docs/scenarios');
const files = readdirSync(DIR).filter(f => f.endsWith('.json')).sort();

/** With the key defence off, the assertion that must fail (a part of its `what`). */
const FAILS_WITHOUT: Record<string, string> = {
  'partition-delete-remove': 'r1 title shown = "Dose plan"',
  'forged-signature': 'refused at relay as bad_signature = 1',
  'expired-lease-resubmit': 'refused at relay as lease_expired ≥ 1',
  'clock-rollback-lease': 'set_field by B on r1: offline_lease_expired',
  'replay-changes-nothing': 'replay via A: relay answers duplicate',
  impersonation: 'forged wrong_device by B: relay answers wrong_device',
  'removed-admin-old-log': 'r1 fields.lead shown = "A"',
};

const failing = (r: ScenarioReport) => r.assertions.filter(a => !a.ok).map(a => `step ${a.step}: ${a.what}: ${a.detail}`);

describe('shipped scenarios', () => {
  it('the issue\'s and six more, each naming the defences it is about', () => {
    expect(files).toHaveLength(7);
    for (const f of files) {
      const s = parseScenario(JSON.parse(readFileSync(join(DIR, f), 'utf8')));
      expect(s.name).toBe(f.replace(/\.json$/, ''));
      expect(s.keyDefences.length).toBeGreaterThan(0);
      expect(FAILS_WITHOUT[s.name], `no expected failure for ${s.name}`).toBeDefined();
    }
  });

  for (const f of files) {
    const name = f.replace(/\.json$/, '');
    it(`${name} passes, every assertion held`, async () => {
      const r = await runScenarioFile(join(DIR, f));
      expect(failing(r)).toEqual([]);
      expect(r.passed).toBe(true);
      expect(r.assertions.length).toBeGreaterThanOrEqual(5);
      expect(r.contentHash).toMatch(/^[0-9a-f]{32}$/);
      expect(formatScenarioSummary(r)).toContain(`scenario ${name}: PASSED`);
    });

    it(`${name} fails with its key defence off, naming the assertion`, async () => {
      const s = parseScenario(JSON.parse(readFileSync(join(DIR, f), 'utf8')));
      const r = await runScenarioFile(join(DIR, f), { defencesOff: s.keyDefences });
      expect(r.passed).toBe(false);
      expect(r.defencesOff).toEqual(s.keyDefences);
      expect(r.failed).toBeDefined();
      expect(failing(r).some(x => x.includes(FAILS_WITHOUT[name]!)), failing(r).join('\n')).toBe(true);
      expect(formatScenarioSummary(r)).toContain(`FAILED: ${r.failed!.what}`);
    });
  }
});

describe('defence switches', () => {
  it('are set only by a scenario run: no product code, environment variable or relay option reads or passes them', () => {
    // where the switches are defined and obeyed, and the one place that sets them
    const allowed = new Set(['relay/context.ts', 'relay/server.ts', 'relay/handlers/push.ts', 'relay/handlers/judgeAuthor.ts', 'relay/defences.ts', 'src/docs/sync/LeaseClock.ts']);
    const root = join(import.meta.dirname, '../..');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) walk(rel);
        else if (/\.(ts|tsx|js|mjs)$/.test(e.name) && !rel.startsWith('src/cli/sim/scenario/') && !allowed.has(rel)) {
          if (/defencesOff|rollbackResistant|RELAY_DEFENCES/.test(readFileSync(join(root, rel), 'utf8'))) offenders.push(rel);
        }
      }
    };
    for (const d of ['relay', 'src', 'bin']) walk(d);
    // the lead wires `cloister sim --scenario --defence-off` here: it may pass them on, to a scenario run only
    expect(offenders.filter(f => f !== 'src/cli/commands/sim.ts')).toEqual([]);
    expect(readFileSync(join(root, 'relay/defences.ts'), 'utf8')).not.toMatch(/process\.env/);
  });
});

describe('scenario files are untrusted input', () => {
  const base = { name: 't', replicas: ['A', 'B'], steps: [{ op: 'create', by: 'A', record: 'r1', title: 'x' }] };
  const error = (raw: unknown) => {
    try {
      parseScenario(raw);
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it('names the step and a reason code, on one line', () => {
    expect(error({ ...base, steps: [...base.steps, { op: 'set_field', by: 'D', record: 'r1', field: 'dose', value: '1' }] })).toBe('step 1: unknown_replica (by "D" is not a replica)');
    expect(error({ ...base, steps: [{ op: 'set_field', by: 'A', record: 'r9', field: 'dose', value: '1' }] })).toMatch(/^step 0: unknown_record /);
    expect(error({ ...base, steps: [{ op: 'explode', by: 'A' }] })).toMatch(/^step 0: unknown_step \(unknown op "explode"/);
    expect(error({ ...base, steps: [{ op: 'create', by: 'A', record: 'r1', title: 5 }] })).toMatch(/^step 0: bad_step \(op create: title: /);
    expect(error({ ...base, steps: [...base.steps, { partition: [['A', 'relay']] }] })).toBe('step 1: bad_partition (every replica is in one group; missing B)');
    expect(error({ ...base, steps: [...base.steps, { assert: { shown: { record: 'r1', path: 'title' } } }] })).toMatch(/^step 1: bad_step \(assert shown: /);
    expect(error({ ...base, steps: [...base.steps, { assert: { everything: true } }] })).toMatch(/^step 1: unknown_step /);
    expect(error({ ...base, steps: [...base.steps, { remove: 'A', by: 'A' }] })).toBe('step 1: bad_step (A cannot remove itself)');
  });

  it('refuses what the run cannot do, before it starts', async () => {
    expect(error({ ...base, relays: 2 })).toMatch(/^scenario: relays_unsupported /);
    expect(error({ ...base, replicas: ['A', 'A'] })).toMatch(/^scenario: bad_replicas /);
    expect(error({ ...base, replicas: [] })).toMatch(/^scenario: bad_replicas /);
    expect(error([1, 2])).toMatch(/^scenario: bad_scenario /);
    expect(error({ ...base, steps: [{ op: 'toString', by: 'A' }] })).toMatch(/^step 0: unknown_step /);
    expect(error(JSON.parse('{"name":"t","replicas":["A"],"steps":[{"op":"create","by":"A","record":"r1","title":"x","fields":{"__proto__":"x"}}]}'))).toBe('step 0: bad_step (fields.__proto__: a reserved name)');
    expect(validateScenario({ ...base, steps: [{ sync: ['Z'] }] })).toEqual({ ok: false, reason: 'unknown_replica', step: 0, message: 'step 0: unknown_replica (sync "Z" is not a replica)' });
    await expect(runScenario(base, { defencesOff: ['relay.everything'] })).rejects.toThrow(/^scenario: unknown_defence /);
    await expect(runScenarioFile(join(DIR, '..', 'SIM.md'))).rejects.toThrow(/^scenario: not_json /);
    await expect(runScenarioFile(join(DIR, 'no-such-scenario.json'))).rejects.toThrow(/^scenario: unreadable \(cannot read .*: ENOENT\)$/);
  });
});
