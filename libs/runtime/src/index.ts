export { openRuntime, runMain } from "./runtime";
export type { Runtime, RuntimeOptions } from "./runtime";
export { Releasers } from "./releasers";
export { recheckDelayMs, topologyDelays } from "./delays";
export { runClustered, metricsSource } from "./cluster";
