import { z } from "zod";
import { decodeCursor, encodeCursor } from "@herald/db";
import { actorOf, send, type Api } from "@herald/http";
import { eventSchema, eventTypeSchema, routingRuleSchema, routingRuleUpdateSchema, type EventService, type RoutingRules } from "@herald/notifications";
import { acceptContext, sendAccepted } from "./notifications";

const byType = z.object({ type: eventTypeSchema });
const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z
      .string()
      .max(200)
      .refine((c) => eventTypeSchema.safeParse(decodeCursor(c)).success, "is not a cursor this list gave")
      .optional(),
  })
  .strict();
const TAG = "Events";

export function eventRoutes(api: Api, events: EventService, rules: RoutingRules): void {
  api.route(
    {
      method: "post",
      path: "/events",
      tag: TAG,
      summary: "Report an event; its routing rule says what to send (template, channels, priority)",
      description:
        "`data` are the template's variables. Answers like POST /notifications/send (202, with source `event`). 422 routing_rule_not_found when the type has no enabled rule. Idempotency-Key header or idempotency_key field as for a send.",
      body: eventSchema,
      status: 202,
      errors: [409, 413, 415, 422, 429, 503],
    },
    async ({ body, req, res }) => sendAccepted(res, await events.send(body, acceptContext(req, res))),
  );

  api.route(
    {
      method: "post",
      path: "/routing-rules",
      tag: TAG,
      summary: "Create the routing rule of an event type",
      description: "422 template_not_found when the template does not exist or has no variant for one of the channels.",
      body: routingRuleSchema,
      status: 201,
      errors: [409, 422],
    },
    async ({ body, res }) => send(res, await rules.create(body, actorOf(res)), { status: 201, message: "Routing rule created" }),
  );

  api.route({ method: "get", path: "/routing-rules", tag: TAG, summary: "Routing rules, by type", query: listQuery }, async ({ query, res }) => {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const { rules: page, next } = await rules.list({ limit: query.limit, ...(after ? { after } : {}) });
    send(res, page, { meta: next ? { next_cursor: encodeCursor(next) } : {} });
  });

  api.route(
    { method: "get", path: "/routing-rules/:type", tag: TAG, summary: "The routing rule of an event type", params: byType, errors: [404] },
    async ({ params, res }) => send(res, await rules.get(params.type)),
  );

  api.route(
    {
      method: "put",
      path: "/routing-rules/:type",
      tag: TAG,
      summary: "Replace the routing rule of an event type",
      description: "422 template_not_found as for POST.",
      params: byType,
      body: routingRuleUpdateSchema,
      errors: [404, 422],
    },
    async ({ params, body, res }) => send(res, await rules.update(params.type, body, actorOf(res)), { message: "Routing rule updated" }),
  );

  api.route(
    { method: "delete", path: "/routing-rules/:type", tag: TAG, summary: "Delete the routing rule of an event type", params: byType, status: 204, errors: [404] },
    async ({ params, res }) => {
      await rules.delete(params.type, actorOf(res));
      res.status(204).end();
    },
  );
}
