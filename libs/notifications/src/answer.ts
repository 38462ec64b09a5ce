import type { Channel, DeliveryStatus } from "@herald/db";
import type { DeliveryRow } from "./rows";

export interface AcceptedDelivery {
  delivery_id: string;
  channel: Channel;
  status: DeliveryStatus;
  /** When a scheduled or held delivery goes out; for a digesting one, when its window closes at the latest. */
  release_at?: string;
  reason?: string;
  /** The delivery that carries this one's digest (its own id for the carrier). */
  digest_delivery_id?: string;
}

/** The 202 answer's data. */
export interface AcceptAnswer {
  request_id: string;
  status: "queued" | "scheduled" | "held" | "digesting" | "throttled" | "suppressed";
  channel?: Channel;
  channels?: Channel[];
  correlation_id: string;
  remaining_requests: number;
  deliveries: AcceptedDelivery[];
}

/** The answer's status: the most "going out" of its deliveries' statuses. */
export function answerStatus(statuses: DeliveryStatus[]): AcceptAnswer["status"] {
  for (const status of ["queued", "scheduled", "held", "digesting", "throttled"] as const) if (statuses.includes(status)) return status;
  return "suppressed";
}

/**
 * The answer for these deliveries: their statuses, release times and reasons, as the write
 * decided them (throttles and digests are decided inside the accept transaction).
 */
export function answerWith(answer: AcceptAnswer, deliveries: DeliveryRow[]): AcceptAnswer {
  return {
    ...answer,
    status: answerStatus(deliveries.map((d) => d.status)),
    deliveries: deliveries.map((d) => ({
      delivery_id: d.id,
      channel: d.channel,
      status: d.status,
      ...(d.release_at ? { release_at: d.release_at } : {}),
      ...(d.last_error ? { reason: d.last_error } : {}),
      ...(d.digest_delivery_id ? { digest_delivery_id: d.digest_delivery_id } : {}),
    })),
  };
}
