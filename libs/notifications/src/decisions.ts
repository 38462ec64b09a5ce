import type { DeliveryStatus } from "@herald/db";
import type { AcceptAnswer } from "./answer";
import type { DeliveryRow, IdempotencyRow, RequestRow } from "./rows";
import type { DigestSpec, ThrottleSpec } from "./schemas";

/**
 * A write the accept statement makes beside its requests and deliveries (a data-modifying CTE):
 * how a throttle or a digest decided inside the accept transaction records its state. `sql` is
 * given the placeholder of each of its `params` by position (`param(0)` is "$3", say). An insert
 * takes its rows as one JSON array; an update joins existing rows by key through unnest() of
 * typed arrays (ARCHITECTURE.md, Database).
 */
export interface DecidedWrite {
  sql: (param: (n: number) => string) => string;
  params: unknown[];
}

/** Statuses of a delivery that would go out: what a throttle counts and a digest collects. */
export const OUTGOING: readonly DeliveryStatus[] = ["queued", "scheduled", "held"];

/**
 * Everything one accepted send writes, in one transaction. A throttle or a digest is decided in
 * the write (it must be atomic with it): the write may change deliveries' statuses and update the
 * answer (which the idempotency key stores). The deliveries still `queued` after that are
 * released to the outbox with it (releaseToOutbox).
 */
export interface AcceptItem {
  request: RequestRow;
  deliveries: DeliveryRow[];
  /** The 202 answer's data for this send. */
  answer: AcceptAnswer;
  idempotency?: IdempotencyRow;
  digest?: DigestSpec;
  throttle?: ThrottleSpec;
}
