import type { DeliveryStatus } from "@herald/db";

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
