export { DeliveryWorker } from "./worker";
export type { DeliveryWorkerOptions, DeliveryWorkerDeps } from "./worker";
export { startDeliveryWorker } from "./start";
export type { StartWorkerOptions } from "./start";
export type { ChannelHandler, SendContext, SendOutcome } from "./handler";
export { DeliveryRepository } from "./repository";
export type { ClaimedDelivery, ClaimResult, DeadLetterRecord } from "./repository";
export { WorkerMetrics } from "./metrics";
export type { Outcome } from "./metrics";
