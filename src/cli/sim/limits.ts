// The simulator's size limits, apart from runSim.ts so `cloister sim --help` can state them without
// loading the simulator (and with it the relay and the whole sync engine).
export const SIM_LIMITS = { maxReplicas: 16, maxOps: 1_000_000 };
