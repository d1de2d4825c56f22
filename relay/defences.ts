// Named relay defences that a simulation scenario may switch off for one in-process run, to show that
// the scenario fails without them (docs/SCENARIOS.md → Defences). Test and sim only: the set is an
// option of startRelay() and nothing else; it is never read from the environment, a flag of `cloister
// relay`, or the network. Absent (the product), every defence is on.

export const RELAY_DEFENCES = [
  'relay.membership', // a push by a removed member, a revoked device or a reader is refused
  'relay.signature', // a push whose signature does not verify under the device's key is refused
  'relay.device', // a connection pushes only envelopes naming its own authenticated device
  'relay.lease', // a push sealed under an expired or unknown lease is refused (or held)
  'relay.dedupe', // an identical re-send is acknowledged as a duplicate, not refused as a replay
] as const;
export type RelayDefence = (typeof RELAY_DEFENCES)[number];

/** Is the defence on? (Always, unless a sim run switched it off.) */
export const defenceOn = (off: ReadonlySet<string> | undefined, name: RelayDefence): boolean => !off?.has(name);
