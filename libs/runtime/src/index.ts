export { openRuntime } from "./runtime";
export { runMain } from "./main";
export type { Runtime, RuntimeOptions } from "./runtime";
export { Releasers } from "./releasers";
export { recheckDelayMs, topologyDelays } from "./delays";
export { runClustered, metricsSource } from "./cluster";
