/**
 * Berth's chaos-testing harness (`import { chaos } from "berth"`): a cluster whose every part
 * can be faulted, a workload recorded into a history, faults on a seeded schedule, checkers
 * over the history and the final state, and a report with an SVG timeline.
 *
 * ```ts
 * import { chaos } from "berth";
 * const scenario = chaos.loadScenario("chaos/seed-story.yaml");
 * const { report } = await chaos.runScenario(scenario, { seed: 1, reportDir: "chaos-report" });
 * console.log(chaos.summaryText(report));
 * ```
 */
export { Rng, hash32 } from "./prng.ts";
export {
  FAULT_KINDS,
  FAULT_TARGET,
  generateSchedule,
  parseDuration,
  formatDuration,
  ScheduleError,
  type FaultKind,
  type FaultChoice,
  type ScheduleOptions,
  type ScheduledFault,
} from "./schedule.ts";
export { History, entriesOf, faultWindows, type HistoryEntry, type HistoryJson, type RequestOp, type WriteOp, type FaultEvent, type Sample, type RcSample, type Mark } from "./history.ts";
export {
  CHECKER_NAMES,
  checkAvailability,
  checkConvergence,
  checkFaultsHealed,
  checkNoDuplicatePods,
  checkNoLostWrites,
  checkNoOrphans,
  checkSeedStory,
  type CheckerName,
  type CheckResult,
  type FinalState,
  type AvailabilityOptions,
} from "./checkers.ts";
export { renderTimelineSvg, type TimelineOptions } from "./timeline_svg.ts";
export { buildReport, summaryText, writeReport, type ChaosReport } from "./report.ts";
export { FaultProxy, FaultProxyError, type FaultMode, type FaultProxyOptions } from "./fault_proxy.ts";
export { NatsControl, NatsControlError } from "./nats_control.ts";
export { PrivateDockerd, PrivateDockerdError } from "./dockerd.ts";
export { EndpointToxics } from "./toxics.ts";
export { ChaosCluster, ChaosNode, ChaosClusterError, type ChaosClusterOptions } from "./cluster.ts";
export { inject, NemesisError, type ActiveFault, type NemesisContext } from "./nemesis.ts";
export { Observer } from "./observe.ts";
export { Workload, COUNTER_ANNOTATION, type ClientSpec, type WriterSpec, type Tracked } from "./workload.ts";
export { loadScenario, listScenarios, resolveScenario, scenarioFromObject, ScenarioError, type Scenario } from "./scenario.ts";
export { runScenario, scheduleFor, check, ChaosAbortedError, type RunOptions, type RunResult } from "./run.ts";
export { summaryTable, type TableRow } from "./table.ts";
