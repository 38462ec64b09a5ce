import { decodeCursor, encodeCursor } from "@herald/db";
import { actorOf, send, type Api } from "@herald/http";
import { createEndpointSchema, endpointIdSchema, listEndpointsSchema, updateEndpointSchema, type WebhookEndpoints } from "@herald/status-webhooks";
import { rotateSecretSchema } from "@herald/users";

const TAG = "Status webhooks";

/** /webhook-endpoints: subscriptions to delivery status events, posted signed (Standard Webhooks). */
export function webhookEndpointRoutes(api: Api, endpoints: WebhookEndpoints): void {
  api.route(
    {
      method: "post",
      path: "/webhook-endpoints",
      tag: TAG,
      summary: "Subscribe a URL to status events; the answer carries its signing secret (whsec_...), shown this once",
      description:
        "Events: request.accepted, delivery.sent, delivery.failed, delivery.dead_lettered, delivery.suppressed, delivery.throttled, delivery.digested, delivery.cancelled, or \"*\". Each is POSTed as `{ type, timestamp, data: { request_id, delivery_id, channel, status, attempts, provider?, provider_message_id?, error_code? } }` with the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature), retried on failure (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), at least once and in order per delivery.",
      body: createEndpointSchema,
      status: 201,
    },
    async ({ body, res }) => send(res, await endpoints.create(body, actorOf(res)), { status: 201, message: "Webhook endpoint created" }),
  );

  api.route({ method: "get", path: "/webhook-endpoints", tag: TAG, summary: "Webhook endpoints, oldest first", query: listEndpointsSchema }, async ({ query, res }) => {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const { endpoints: page, next } = await endpoints.list({ limit: query.limit, ...(after ? { after } : {}) });
    send(res, page, { meta: next ? { next_cursor: encodeCursor(next) } : {} });
  });

  api.route(
    {
      method: "get",
      path: "/webhook-endpoints/:id",
      tag: TAG,
      summary: "A webhook endpoint: its events, whether it is enabled (and why not), its failure streak, events pending",
      params: endpointIdSchema,
      errors: [404],
    },
    async ({ params, res }) => send(res, await endpoints.get(params.id)),
  );

  api.route(
    {
      method: "patch",
      path: "/webhook-endpoints/:id",
      tag: TAG,
      summary: "Change a webhook endpoint; `enabled: true` re-enables one that was disabled after failing for too long",
      description: "Events that were waiting when it was disabled are posted once it is enabled again; events while it was disabled are not recorded.",
      params: endpointIdSchema,
      body: updateEndpointSchema,
      errors: [404],
    },
    async ({ params, body, res }) => send(res, await endpoints.update(params.id, body, actorOf(res)), { message: "Webhook endpoint updated" }),
  );

  api.route(
    {
      method: "delete",
      path: "/webhook-endpoints/:id",
      tag: TAG,
      summary: "Delete a webhook endpoint and the events still waiting for it",
      params: endpointIdSchema,
      status: 204,
      errors: [404],
    },
    async ({ params, res }) => {
      await endpoints.delete(params.id, actorOf(res));
      res.status(204).end();
    },
  );

  api.route(
    {
      method: "post",
      path: "/webhook-endpoints/:id/secret/rotate",
      tag: TAG,
      summary: "A new signing secret (shown this once); the old one keeps signing for keep_previous_for (default 24 h)",
      description: "While the replaced secret is valid every post carries two signatures in webhook-signature, so the receiver can switch without refusing one.",
      params: endpointIdSchema,
      body: rotateSecretSchema,
      errors: [404],
    },
    async ({ params, body, res }) => send(res, await endpoints.rotateSecret(params.id, body.keep_previous_for, actorOf(res)), { message: "Secret rotated" }),
  );
}
