export { Cached } from "./cached";
export { BrokerStats } from "./broker-stats";
export type { QueueStat } from "./broker-stats";
export { DatabaseFigures, breakerSummary, ALIVE_WITHIN_SECONDS, SENT_PER_MINUTE_SQL, FAILED_PER_MINUTE_SQL } from "./figures";
export type { MinuteRate, WorkerInstanceView, BreakerState } from "./figures";
export { Overview } from "./overview";
export type { OverviewView } from "./overview";
export { registerBacklogGauges } from "./gauges";
export { publishMetrics } from "./publish-metrics";
