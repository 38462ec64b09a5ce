import { z } from "zod";
import { durationField } from "@herald/config";
import { CHANNELS, DELIVERY_STATUSES, PRIORITIES } from "@herald/db";

export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3_600_000;

const idempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

/** Why a send_at cannot be scheduled, or undefined when it can (in the future, at most 30 days ahead). */
export function sendAtProblem(sendAt: Date, now: number): string | undefined {
  if (Number.isNaN(sendAt.getTime())) return "is not a valid date-time";
  if (sendAt.getTime() <= now) return "is in the past";
  if (sendAt.getTime() > now + MAX_SCHEDULE_AHEAD_MS) return "is more than 30 days ahead";
  return undefined;
}

const groupKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

/** The variables a digest's template gets from Herald: a digest send never supplies them. */
export const DIGEST_VARIABLES = ["events", "count", "first", "last"] as const;

/** A send's or a routing rule's digest: collect the sends of a window into one delivery. */
export const digestSchema = z
  .object({
    key: groupKey.optional().describe("Sends with the same user, template, channel and key share a window"),
    window: durationField(1000, 7 * 86_400_000).describe('How long a window collects sends, from its first: seconds or "30s", "10m", "1h" (1 s to 7 days)'),
    max: z.number().int().min(1).max(1000).optional().describe("A window that collected this many sends is released at once"),
    first: z.enum(["batched", "immediate"]).default("batched").describe("immediate: the first send of a window goes out at once, the window collects the rest"),
  })
  .strict()
  .meta({ id: "Digest" });

/** A send's or a routing rule's throttle: at most `limit` sends per window per user, channel and key. */
export const throttleSchema = z
  .object({
    limit: z.number().int().min(1).max(100_000),
    window: durationField(1000, 30 * 86_400_000).describe('seconds or "30s", "10m", "1h" (1 s to 30 days)'),
    key: groupKey.optional().describe("Sends with the same user, channel and key share a limit (default: all throttled sends of the user)"),
  })
  .strict()
  .meta({ id: "Throttle" });

export type DigestSpec = z.infer<typeof digestSchema>;
export type ThrottleSpec = z.infer<typeof throttleSchema>;

/** How a digest or throttle is stored and shown: windows in seconds (what a number means on input). */
export function storedSpec<T extends { window: number }>(spec: T): Omit<T, "window"> & { window: number } {
  return { ...spec, window: spec.window / 1000 };
}

/** The body of POST /notifications/send (and of each item of send-bulk). */
export const sendSchema = z
  .object({
    user_id: z.string().min(1).max(255),
    channel: z.enum(CHANNELS).optional(),
    channels: z.array(z.enum(CHANNELS)).min(1).max(CHANNELS.length).optional(),
    template_id: z.string().min(1).max(128),
    template_version: z.number().int().positive().optional(),
    variables: z.record(z.string(), z.unknown()).default({}),
    priority: z.enum(PRIORITIES).default("normal"),
    send_at: z.iso
      .datetime({ offset: true, abort: true, error: "must be an ISO 8601 date-time with an offset, such as 2026-12-01T09:00:00Z" })
      .superRefine((value, ctx) => {
        const problem = sendAtProblem(new Date(value), Date.now());
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional()
      .describe("When to send: ISO 8601 with an offset, in the future, at most 30 days ahead"),
    idempotency_key: idempotencyKey.optional(),
    digest: digestSchema.optional().describe("Collect this send with the others of the same user, template, channel and key into one delivery"),
    throttle: throttleSchema.optional().describe("Send at most limit per window to this user (per channel and key); the others end throttled"),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.digest && body.send_at) ctx.addIssue({ code: "custom", path: ["digest"], message: "cannot be combined with send_at: a digest collects sends as they come" });
    if (body.digest) {
      for (const name of DIGEST_VARIABLES) {
        if (name in body.variables) ctx.addIssue({ code: "custom", path: ["variables", name], message: "is given by Herald to a digest's template; a digest send cannot supply it" });
      }
    }
    if (body.channel === undefined && body.channels === undefined) {
      ctx.addIssue({ code: "custom", path: ["channel"], message: "give channel or channels" });
    }
    if (body.channel !== undefined && body.channels !== undefined) {
      ctx.addIssue({ code: "custom", path: ["channels"], message: "give channel or channels, not both" });
    }
    if (body.channels && new Set(body.channels).size !== body.channels.length) {
      ctx.addIssue({ code: "custom", path: ["channels"], message: "lists a channel twice" });
    }
  })
  .meta({ id: "SendRequest" });

export type SendInput = z.infer<typeof sendSchema>;

export { idempotencyKey as idempotencyKeySchema };

/** POST /notifications/send-bulk. Items are validated one by one, so one bad item refuses only itself. */
export const MAX_BULK_ITEMS = 1000;
export const bulkSendSchema = z
  .object({
    notifications: z
      .array(z.unknown().meta({ override: { $ref: "#/components/schemas/SendRequest" } }))
      .min(1)
      .max(MAX_BULK_ITEMS, `at most ${MAX_BULK_ITEMS} notifications per request`)
      .describe("Send bodies, as for POST /notifications/send; each is accepted or rejected on its own"),
  })
  .strict();

const eventType = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, "must be letters, digits and . _ : - such as order.created");

/** POST /events: what happened to a user; the routing rule for `type` says what to send. */
export const eventSchema = z
  .object({
    type: eventType,
    user_id: z.string().min(1).max(255),
    data: z.record(z.string(), z.unknown()).default({}).describe("The template's variables"),
    idempotency_key: idempotencyKey.optional(),
  })
  .strict();

export type EventInput = z.infer<typeof eventSchema>;

const ruleFields = {
  template_id: z.string().min(1).max(128),
  channels: z
    .array(z.enum(CHANNELS))
    .min(1)
    .max(CHANNELS.length)
    .refine((c) => new Set(c).size === c.length, "lists a channel twice"),
  priority: z.enum(PRIORITIES).default("normal"),
  enabled: z.boolean().default(true),
  digest: digestSchema.optional(),
  throttle: throttleSchema.optional(),
};

/** POST /routing-rules: an event type and what it sends. */
export const routingRuleSchema = z.object({ type: eventType, ...ruleFields }).strict();
/** PUT /routing-rules/:type: the rule's new content (the type is the path's). */
export const routingRuleUpdateSchema = z.object(ruleFields).strict();
export const eventTypeSchema = eventType;

export type RoutingRuleInput = z.infer<typeof routingRuleSchema>;
export type RoutingRuleUpdate = z.infer<typeof routingRuleUpdateSchema>;

/** GET /notifications: filters and cursor pagination. */
export const listNotificationsSchema = z
  .object({
    user_id: z.string().min(1).max(255).optional().describe("The user's id or external_id"),
    idempotency_key: idempotencyKey.optional().describe("Requests sent with this idempotency key (by any API key)"),
    correlation_id: z.string().min(1).max(128).optional().describe("Requests with this correlation id"),
    recipient: z.string().min(3).max(320).optional().describe("Requests to the users with this email address (ignoring case) or phone number"),
    provider_message_id: z.string().min(1).max(255).optional().describe("The request whose delivery the provider knows by this id"),
    template_id: z.string().min(1).max(128).optional().describe("Requests of this template"),
    status: z.enum(DELIVERY_STATUSES).optional().describe("Requests with a delivery in this status"),
    channel: z.enum(CHANNELS).optional().describe("Requests with a delivery on this channel"),
    from: z.iso.datetime({ offset: true }).optional().describe("Created at or after (ISO 8601)"),
    to: z.iso.datetime({ offset: true }).optional().describe("Created before (ISO 8601)"),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict()
  .refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), { message: "must be after from", path: ["to"] });

export type ListNotificationsQuery = z.infer<typeof listNotificationsSchema>;
