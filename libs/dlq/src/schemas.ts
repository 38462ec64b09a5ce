import { z } from "zod";
import { CHANNELS, decodeCursor, isUuid } from "@herald/db";

const filterFields = {
  channel: z.enum(CHANNELS).optional().describe("Dead letters of this channel"),
  error_code: z.string().min(1).max(100).optional().describe("Dead letters with this error code (webhook_http_404, smtp_550, ...)"),
  from: z.iso.datetime({ offset: true }).optional().describe("Dead-lettered at or after (ISO 8601)"),
  to: z.iso.datetime({ offset: true }).optional().describe("Dead-lettered before (ISO 8601)"),
};

const fromBeforeTo = (q: { from?: string | undefined; to?: string | undefined }) => !q.from || !q.to || new Date(q.from) < new Date(q.to);

/** GET /dlq: filters and cursor pagination, newest first. */
export const listDeadLettersSchema = z
  .object({
    ...filterFields,
    replayed: z.enum(["true", "false"]).optional().describe("Only dead letters replayed (true) or not yet replayed (false)"),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z
      .string()
      .max(200)
      .refine((c) => isUuid(decodeCursor(c) ?? ""), "is not a cursor this list gave")
      .optional(),
  })
  .strict()
  .refine(fromBeforeTo, { message: "must be after from", path: ["to"] });

/** POST /dlq/replay: which dead letters to replay, at most `limit` in this call. */
export const bulkReplaySchema = z
  .object({
    ...filterFields,
    limit: z.number().int().min(1).max(1000).default(100).describe("At most this many in this call (default 100, max 1000)"),
  })
  .strict()
  .refine(fromBeforeTo, { message: "must be after from", path: ["to"] });

export const deadLetterIdSchema = z.object({ id: z.string().max(100) });

export type ListDeadLettersQuery = z.infer<typeof listDeadLettersSchema>;
export type BulkReplayInput = z.infer<typeof bulkReplaySchema>;
/** What selects dead letters in a list or a bulk replay. */
export type DeadLetterFilter = Pick<ListDeadLettersQuery, "channel" | "error_code" | "from" | "to">;
