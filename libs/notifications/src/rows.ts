// The rows an accepted send writes (requests, deliveries, its idempotency key).
import type { Channel, DeliveryStatus, Priority } from "@herald/db";

/**
 * The rows an accepted send writes, in the database's own shape (column names, timestamps as ISO
 * text): they travel to PostgreSQL as JSON as they are, with no conversion there and back.
 */
export interface RequestRow {
  id: string;
  user_id: string;
  user_ref: string;
  template_id: string | null;
  template_version: number | null;
  variables: Record<string, unknown>;
  priority: Priority;
  send_at: string | null;
  idempotency_key: string | null;
  api_key_id: string | null;
  correlation_id: string;
  source: string;
  event_type: string | null;
  /** The send's digest and throttle as stored (windows in seconds), for status reads. */
  digest: Record<string, unknown> | null;
  throttle: Record<string, unknown> | null;
}

export interface DeliveryRow {
  id: string;
  request_id: string;
  channel: Channel;
  status: DeliveryStatus;
  priority: Priority;
  template_version_id: string | null;
  release_at: string | null;
  last_error: string | null;
  last_error_code: string | null;
  /** The delivery that carries this one's digest (its own id for the carrier). */
  digest_delivery_id: string | null;
  /** What it renders with when not its request's variables (a digest of one, with first: immediate). */
  variables: Record<string, unknown> | null;
}

export interface IdempotencyRow {
  scope: string;
  key: string;
  bodyHash: string;
  expiresAt: Date;
}
