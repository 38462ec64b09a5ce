import { z } from "zod";
import { SUBSCRIBABLE } from "./events";

const events = z
  .array(z.enum(SUBSCRIBABLE))
  .min(1)
  .max(SUBSCRIBABLE.length)
  .refine((list) => new Set(list).size === list.length, "lists an event twice")
  .describe('The event types to receive, or ["*"] for all');

const url = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
  .max(2048)
  .describe("Where events are POSTed; private addresses are refused outside development, as for webhooks");

/** POST /webhook-endpoints */
export const createEndpointSchema = z
  .object({ url, events, description: z.string().max(500).optional() })
  .strict()
  .meta({ id: "WebhookEndpointCreate" });

/** PATCH /webhook-endpoints/:id: fields left out keep their values; `enabled: true` re-enables a disabled endpoint. */
export const updateEndpointSchema = z
  .object({
    url: url.optional(),
    events: events.optional(),
    description: z.string().max(500).nullable().optional(),
    enabled: z.boolean().optional().describe("true re-enables an endpoint that was disabled after failing for too long"),
  })
  .strict();

export const endpointIdSchema = z.object({ id: z.string().max(100) });

export const listEndpointsSchema = z
  .object({ limit: z.coerce.number().int().min(1).max(500).default(50), cursor: z.string().max(200).optional() })
  .strict();

export type CreateEndpointInput = z.infer<typeof createEndpointSchema>;
export type UpdateEndpointInput = z.infer<typeof updateEndpointSchema>;
