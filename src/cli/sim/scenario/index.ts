// Scripted simulation scenarios (docs/SCENARIOS.md): the library API behind `cloister sim --scenario`.
export { runScenario, runScenarioFile, type AssertionResult, type ScenarioOptions, type ScenarioReport } from './runScenario.ts';
export { formatScenarioSummary } from './summary.ts';
export { DEFENCES, parseDefences, parseScenario, ScenarioError, validateScenario, type Defence, type Scenario, type ScenarioErrorCode, type Step } from './schema.ts';
