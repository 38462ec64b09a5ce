export { AcceptService, rateLimitHeaders } from "./accept";
export type { AcceptAnswer, AcceptContext, AcceptResult, AcceptDeps, AcceptedDelivery, BulkItemResult } from "./accept";
export { AcceptWriter } from "./writer";
export type { WriteOutcome, AcceptWriterOptions } from "./writer";
export type { AcceptItem } from "./decisions";
export type { RequestRow, DeliveryRow } from "./rows";
export { NotificationQueries, overallStatus, searchStatement, RECIPIENT_SQL } from "./status";
export { requestTimeline } from "./timeline";
export type { Timeline, TimelineEvent } from "./timeline";
export type { RequestView, DeliveryView, ListFilter } from "./status";
export { cancelNotification, CANCELLABLE } from "./cancel";
export { DeliveryScheduler } from "./scheduler";
export { digestView } from "./digest";
export type { DigestRelease } from "./digest";
export type { DeliverySchedulerOptions } from "./scheduler";
export { RetentionJob } from "./retention";
export type { RetentionOptions, RetentionDeleted, RetentionBatch } from "./retention";
export { IdempotencyPurge } from "./idempotency-purge";
export { RoutingRules } from "./routing-rules";
export type { RoutingRuleView } from "./routing-rules";
export { EventService } from "./events";
export {
  sendSchema,
  sendAtProblem,
  idempotencyKeySchema,
  MAX_SCHEDULE_AHEAD_MS,
  MAX_BULK_ITEMS,
  bulkSendSchema,
  eventSchema,
  eventTypeSchema,
  routingRuleSchema,
  routingRuleUpdateSchema,
  listNotificationsSchema,
  digestSchema,
  throttleSchema,
  DIGEST_VARIABLES,
} from "./schemas";
export type { SendInput, EventInput, RoutingRuleInput, RoutingRuleUpdate, ListNotificationsQuery, DigestSpec, ThrottleSpec } from "./schemas";
export { IdempotencyCache, bodyHash } from "./idempotency";
