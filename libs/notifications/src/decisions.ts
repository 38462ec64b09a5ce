import type { DeliveryStatus } from "@herald/db";
import type { AcceptItem, DeliveryRow } from "./writer";

/**
 * A write the accept statement makes beside its requests and deliveries (a data-modifying CTE
 * whose one parameter is `rows` as JSON): how a throttle or a digest decided inside the accept
 * transaction records its state.
 */
export interface DecidedWrite {
  sql: (param: string) => string;
  rows: unknown[];
}

/** Statuses of a delivery that would go out: what a throttle counts and a digest collects. */
export const OUTGOING: readonly DeliveryStatus[] = ["queued", "scheduled", "held"];

/** A delivery that will not go out on its own: no outbox message for it. */
export function dropMessage(item: AcceptItem, delivery: DeliveryRow): void {
  item.outbox = item.outbox.filter((m) => m.messageId !== delivery.id);
}
