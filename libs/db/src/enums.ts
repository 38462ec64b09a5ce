import type { Channel, DeliveryStatus, Platform, Priority } from "@prisma/client";

export type { Channel, DeliveryStatus, Platform, Priority };

export const CHANNELS = ["email", "push", "sms", "whatsapp", "webhook", "slack"] as const satisfies readonly Channel[];
export const PRIORITIES = ["low", "normal", "high", "critical"] as const satisfies readonly Priority[];
export const PLATFORMS = ["android", "ios", "web"] as const satisfies readonly Platform[];
export const DELIVERY_STATUSES = [
  "queued",
  "scheduled",
  "held",
  "processing",
  "retrying",
  "sent",
  "failed",
  "dead_lettered",
  "suppressed",
  "cancelled",
  "digesting",
  "digested",
  "throttled",
] as const satisfies readonly DeliveryStatus[];

/** Statuses after which nothing more happens to a delivery (until an operator replays it). */
export const TERMINAL_STATUSES: readonly DeliveryStatus[] = ["sent", "failed", "dead_lettered", "suppressed", "cancelled", "digested", "throttled"];
