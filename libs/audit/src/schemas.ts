import { z } from "zod";
import { decodeCursor, isUuid } from "@herald/db";

/** GET /audit: newest first, filtered, with cursors. */
export const listAuditSchema = z
  .object({
    action: z.string().min(1).max(100).optional().describe("Entries of this action (template.update, dlq.replay, ...)"),
    target_type: z.string().min(1).max(50).optional().describe("Entries about this kind of thing (template, user, routing_rule, dead_letter, ...)"),
    target_id: z.string().min(1).max(255).optional().describe("Entries about this one thing (with target_type)"),
    key_id: z.string().regex(/^[0-9a-f]{12}$/, "is a key fingerprint: 12 hex digits").optional().describe("Entries written with this key (its fingerprint)"),
    from: z.iso.datetime({ offset: true }).optional().describe("At or after (ISO 8601)"),
    to: z.iso.datetime({ offset: true }).optional().describe("Before (ISO 8601)"),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z
      .string()
      .max(200)
      .refine((c) => isUuid(decodeCursor(c) ?? ""), "is not a cursor this list gave")
      .optional(),
  })
  .strict()
  .refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), { message: "must be after from", path: ["to"] });

export type ListAuditQuery = z.infer<typeof listAuditSchema>;

/** One entry as GET /audit answers it (the contract's shape). */
export const auditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    key_id: z.string().describe("A fingerprint of the API key (first 12 hex digits of its SHA-256), never the key"),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string() }),
    before: z.unknown().nullable(),
    after: z.unknown().nullable(),
    correlation_id: z.string().nullable(),
  })
  .meta({ id: "AuditEntry" });

export type AuditEntryView = z.infer<typeof auditEntrySchema>;
