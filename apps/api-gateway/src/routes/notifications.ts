import { z } from "zod";
import { decodeCursor, encodeCursor, isUuid, type Database } from "@herald/db";
import { AppError } from "@herald/errors";
import type { Logger } from "@herald/logger";
import { parse, send, type Api, type Response } from "@herald/http";
import {
  AcceptService,
  bulkSendSchema,
  cancelNotification,
  idempotencyKeySchema,
  listNotificationsSchema,
  NotificationQueries,
  rateLimitHeaders,
  requestTimeline,
  sendSchema,
  type AcceptContext,
  type AcceptResult,
  type SendInput,
} from "@herald/notifications";

const requestIdParams = z.object({ request_id: z.string() });
const idempotencyHeader = z.object({ "Idempotency-Key": idempotencyKeySchema });

/** The accept context of a request: API key, correlation id, Idempotency-Key header, logger. */
export function acceptContext(req: { get(name: string): string | undefined }, res: Response): AcceptContext {
  const header = req.get("idempotency-key");
  const idempotencyKey = header === undefined ? undefined : parse(idempotencyHeader, { "Idempotency-Key": header }, "Idempotency-Key header")["Idempotency-Key"];
  return {
    apiKeyId: res.locals.apiKeyId as string,
    correlationId: res.locals.correlationId as string,
    ...(idempotencyKey ? { idempotencyKey } : {}),
    logger: res.locals.log as Logger,
  };
}

/** A 202 with the accept answer, its rate-limit headers and, for a replay, Idempotent-Replayed. */
export function sendAccepted(res: Response, result: AcceptResult): void {
  if (result.rate) for (const [name, value] of Object.entries(rateLimitHeaders(result.rate))) res.setHeader(name, value);
  if (result.replayed) res.setHeader("Idempotent-Replayed", "true");
  send(res, result.answer, { status: 202, message: result.replayed ? "Already accepted (idempotent replay)" : "Accepted" });
}

export function notificationRoutes(api: Api, accept: AcceptService, queries: NotificationQueries, db: Database): void {
  api.route(
    {
      method: "post",
      path: "/notifications/send",
      tag: "Notifications",
      summary: "Send a notification to one user on one or more channels",
      description:
        "Accepted (202) means committed to PostgreSQL with its outbox entry. Status `queued`, `scheduled` (send_at in the future, at most 30 days) or `held` (inside the user's quiet hours, unless priority is critical). Idempotency-Key header or idempotency_key field: same key and body within 24 h returns the first answer.",
      body: sendSchema,
      status: 202,
      errors: [409, 413, 415, 422, 429, 503],
    },
    async ({ body, req, res }) => sendAccepted(res, await accept.accept(body, acceptContext(req, res))),
  );

  api.route(
    {
      method: "post",
      path: "/notifications/send-bulk",
      tag: "Notifications",
      summary: "Send up to 1000 notifications: one answer per item, in order",
      description:
        "Each item is a send body and is accepted or rejected on its own, with the status code and error code a single send would get: `data[i] = { index, success, status_code, data | error }`. 202 when every item was accepted, 207 when some were rejected. The accepted items are written in one or a few transactions and published with one wait for the broker's confirms. Idempotency per item (idempotency_key); the Idempotency-Key header is refused here. Body up to 4 MB.",
      body: bulkSendSchema,
      status: 202,
      errors: [413, 415, 503],
    },
    async ({ body, req, res }) => {
      if (req.get("idempotency-key") !== undefined) {
        throw AppError.validation([{ field: "Idempotency-Key", message: "is not taken by send-bulk: give each item its idempotency_key" }]);
      }
      const items = body.notifications.map((item, i): SendInput | AppError => {
        try {
          return parse(sendSchema, item, `notification at index ${i}`);
        } catch (error) {
          if (error instanceof AppError) return error;
          throw error;
        }
      });
      const results = await accept.acceptMany(items, { ...acceptContext(req, res), source: "bulk" });
      const accepted = results.filter((r) => r.success).length;
      const rejected = results.length - accepted;
      send(res, results, {
        status: rejected === 0 ? 202 : 207,
        message: rejected === 0 ? `Accepted all ${accepted}` : `Accepted ${accepted}, rejected ${rejected}`,
        meta: { accepted, rejected },
      });
    },
  );

  api.route(
    {
      method: "get",
      path: "/notifications",
      tag: "Notifications",
      summary: "Requests, newest first, with their deliveries; filters and cursor pagination",
      description:
        "Every filter combines with the others (AND) and is an index scan. `status` and `channel` keep requests that have a delivery in that status on that channel; `recipient` is an email address (any case) or a phone number; `provider_message_id` finds the request the provider's id belongs to. `from` is inclusive, `to` exclusive.",
      query: listNotificationsSchema,
    },
    async ({ query, res }) => {
      const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (query.cursor !== undefined && !(before && isUuid(before))) {
        throw AppError.validation([{ field: "cursor", message: "is not a cursor this list gave" }]);
      }
      const { requests, next } = await queries.list({
        limit: query.limit,
        ...(query.user_id ? { userId: query.user_id } : {}),
        ...(query.idempotency_key ? { idempotencyKey: query.idempotency_key } : {}),
        ...(query.correlation_id ? { correlationId: query.correlation_id } : {}),
        ...(query.recipient ? { recipient: query.recipient } : {}),
        ...(query.provider_message_id ? { providerMessageId: query.provider_message_id } : {}),
        ...(query.template_id ? { templateId: query.template_id } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.channel ? { channel: query.channel } : {}),
        ...(query.from ? { from: new Date(query.from) } : {}),
        ...(query.to ? { to: new Date(query.to) } : {}),
        ...(before ? { before } : {}),
      });
      send(res, requests, { meta: next ? { next_cursor: encodeCursor(next) } : {} });
    },
  );

  api.route(
    {
      method: "get",
      path: "/notifications/:request_id",
      tag: "Notifications",
      summary: "A request with one delivery per channel: status, attempts, errors, timestamps",
      params: requestIdParams,
      errors: [404],
    },
    async ({ params, res }) => {
      send(res, await queries.get(params.request_id));
    },
  );

  api.route(
    {
      method: "get",
      path: "/notifications/:request_id/timeline",
      tag: "Notifications",
      summary: "A request's timeline: every step with its time and reason",
      description:
        "Accepted; per delivery queued, scheduled (send_at) or held (quiet hours, until when), released, suppressed (which preference), each failed attempt with the provider's error, the wait before each retry, sent (provider, provider message id), dead-lettered, replayed, cancelled. Built from the request's rows; an unknown status appears as its own step.",
      params: requestIdParams,
      errors: [404],
    },
    async ({ params, res }) => {
      send(res, await requestTimeline(db, params.request_id));
    },
  );

  api.route(
    {
      method: "post",
      path: "/notifications/:request_id/cancel",
      tag: "Notifications",
      summary: "Cancel every delivery that has not gone out yet (queued, scheduled, held, retrying)",
      description: "Answers the request with its deliveries. 409 when nothing is left to cancel (already sent, failed, ...).",
      params: requestIdParams,
      errors: [404, 409],
    },
    async ({ params, res }) => {
      send(res, await cancelNotification(db, queries, params.request_id), { message: "Cancelled" });
    },
  );
}
