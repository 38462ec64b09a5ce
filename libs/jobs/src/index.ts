export { PeriodicJob } from "./periodic";
export type { PeriodicJobOptions, JobContext, JobLogger } from "./periodic";
