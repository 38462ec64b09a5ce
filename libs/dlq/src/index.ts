export { DeadLetterQueries } from "./queries";
export { DeadLetterReplayer } from "./replay";
export type { ReplayAnswer, BulkReplayAnswer, ReplayBudget, ReplayerOptions } from "./replay";
export { listDeadLettersSchema, bulkReplaySchema, deadLetterIdSchema } from "./schemas";
export type { ListDeadLettersQuery, BulkReplayInput, DeadLetterFilter } from "./schemas";
export type { DeadLetterView, DeadLetterDetail } from "./view";
