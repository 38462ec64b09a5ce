import type { ConsumeMessage } from "amqplib";
import { z } from "zod";
import { CHANNELS } from "@herald/db";
import { EXCHANGE, PRIORITY_VALUES, routingKeyFor } from "./topology";
import type { OutgoingMessage } from "./publisher";

/** Header names carried by every message (the contract lists the first three). */
export const HEADERS = {
  correlationId: "x-correlation-id",
  requestId: "x-request-id",
  attempt: "x-attempt",
  deliveryId: "x-delivery-id",
  channel: "x-channel",
  lastError: "x-last-error",
  errorCode: "x-error-code",
  originalQueue: "x-original-queue",
  deadLetteredAt: "x-dead-lettered-at",
  /** Attempts that failed while the provider's breaker was open or half-open: they spend no retries. */
  providerDownAttempts: "x-provider-down-attempts",
} as const;

/** A message type: its name, its schema and where it is routed. Handlers live elsewhere. */
export interface MessageDefinition<T> {
  name: string;
  schema: z.ZodType<T>;
  routingKey(message: T): string;
}

const deliverySchema = z.object({
  delivery_id: z.uuid(),
  request_id: z.uuid(),
  channel: z.enum(CHANNELS),
});

export type DeliveryMessage = z.infer<typeof deliverySchema>;

/** "Deliver this delivery": the one message of the work queues. The row in PostgreSQL holds the rest. */
export const deliveryMessage: MessageDefinition<DeliveryMessage> = {
  name: "delivery",
  schema: deliverySchema,
  routingKey: (message) => message.channel,
};

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseMessage<T>(definition: MessageDefinition<T>, message: ConsumeMessage): ParseResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(message.content.toString("utf8"));
  } catch {
    return { ok: false, error: "message body is not JSON" };
  }
  const result = definition.schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { ok: false, error: `not a ${definition.name} message: ${issue?.path.join(".") || "body"} ${issue?.message ?? ""}`.trim() };
  }
  return { ok: true, value: result.data };
}

export function headerString(message: ConsumeMessage, name: string): string | undefined {
  const value: unknown = message.properties.headers?.[name];
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

export interface DeliveryEnvelope {
  deliveryId: string;
  requestId: string;
  channel: (typeof CHANNELS)[number];
  correlationId: string;
  priority: keyof typeof PRIORITY_VALUES;
  attempt?: number;
}

/** The outgoing form of a delivery message, as the gateway, the scheduler and DLQ replay publish it. */
export function deliveryOutgoing(d: DeliveryEnvelope): OutgoingMessage {
  const body: DeliveryMessage = { delivery_id: d.deliveryId, request_id: d.requestId, channel: d.channel };
  return {
    exchange: EXCHANGE,
    routingKey: routingKeyFor(deliveryMessage.routingKey(body), d.priority),
    body,
    priority: PRIORITY_VALUES[d.priority],
    messageId: d.deliveryId,
    headers: {
      [HEADERS.correlationId]: d.correlationId,
      [HEADERS.requestId]: d.requestId,
      [HEADERS.deliveryId]: d.deliveryId,
      [HEADERS.channel]: d.channel,
      [HEADERS.attempt]: d.attempt ?? 1,
    },
  };
}
