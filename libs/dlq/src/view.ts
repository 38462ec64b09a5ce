import type { DeadLetter, DeliveryAttempt, DeliveryStatus } from "@herald/db";

/** A dead letter as GET /dlq lists it. */
export interface DeadLetterView {
  id: string;
  delivery_id: string | null;
  request_id: string | null;
  channel: string | null;
  correlation_id: string | null;
  error_code: string;
  error: string;
  /** Attempts made before it was dead-lettered. */
  attempts: number;
  created_at: string;
  replayed_at: string | null;
  replay_count: number;
}

/** GET /dlq/:id: the original message, its delivery now, and every failed attempt of that delivery. */
export interface DeadLetterDetail extends DeadLetterView {
  message: { routing_key: string | null; payload: unknown; headers: unknown };
  delivery: {
    status: DeliveryStatus;
    priority: string;
    attempts: number;
    last_error: string | null;
    last_error_code: string | null;
    updated_at: string;
  } | null;
  attempt_log: { attempt: number; error_code: string; error: string; retryable: boolean; at: string }[];
}

export function toView(row: DeadLetter): DeadLetterView {
  return {
    id: row.id,
    delivery_id: row.deliveryId,
    request_id: row.requestId,
    channel: row.channel,
    correlation_id: row.correlationId,
    error_code: row.errorCode,
    error: row.error,
    attempts: row.attempts,
    created_at: row.createdAt.toISOString(),
    replayed_at: row.replayedAt?.toISOString() ?? null,
    replay_count: row.replayCount,
  };
}

export function toAttempt(a: DeliveryAttempt): DeadLetterDetail["attempt_log"][number] {
  return { attempt: a.attempt, error_code: a.errorCode, error: a.error, retryable: a.retryable, at: a.createdAt.toISOString() };
}
