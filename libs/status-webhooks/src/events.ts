/**
 * The status events a subscriber can ask for, and the SQL that writes them. Every status change
 * that has an event writes it in the same statement as the change (a data-modifying CTE over the
 * rows the change moved), one row per subscribed endpoint into `webhook_events`, the outbox the
 * dispatcher posts from: an event exists exactly when its change committed, never otherwise.
 */
export const EVENT_TYPES = [
  "request.accepted",
  "delivery.sent",
  "delivery.failed",
  "delivery.dead_lettered",
  "delivery.suppressed",
  "delivery.throttled",
  "delivery.digested",
  "delivery.cancelled",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** What an endpoint may subscribe to: an event type, or "*" for every one. */
export const SUBSCRIBABLE = [...EVENT_TYPES, "*"] as const;

/** The body of every status webhook. */
export interface StatusEvent {
  type: EventType;
  /** When the status changed (ISO 8601, UTC). */
  timestamp: string;
  data: {
    request_id: string;
    delivery_id: string;
    channel: string;
    status: string;
    attempts: number;
    provider?: string;
    provider_message_id?: string;
    error_code?: string;
  };
}

/**
 * The columns a moved-rows CTE must return for statusEventsInsert, read off `deliveries` (under
 * `alias` in an UPDATE ... FROM).
 */
export function eventSourceColumns(alias?: string): string {
  const p = alias ? `${alias}.` : "";
  return ["id", "request_id", "channel", "status", "attempts", "provider", "provider_message_id", "last_error_code"].map((c) => p + c).join(", ");
}

/** The event a delivery status reports (retrying and failed are both an attempt that failed). */
const TYPE_OF_STATUS = `CASE m.status::text
    WHEN 'sent' THEN 'delivery.sent'
    WHEN 'retrying' THEN 'delivery.failed'
    WHEN 'failed' THEN 'delivery.failed'
    WHEN 'dead_lettered' THEN 'delivery.dead_lettered'
    WHEN 'suppressed' THEN 'delivery.suppressed'
    WHEN 'throttled' THEN 'delivery.throttled'
    WHEN 'digested' THEN 'delivery.digested'
    WHEN 'cancelled' THEN 'delivery.cancelled' END`;

/**
 * The body of a CTE that writes the status events of the deliveries in `source` (a CTE or table
 * returning eventSourceColumns()): for each row the event its new status reports, and with
 * `accepted` first a `request.accepted` (the accept write), to every enabled endpoint subscribed
 * to the type. Rows are inserted in (delivery, event) order, so ids follow the order of changes.
 *
 * With no endpoint subscribed the join is empty: the statement does one index-less scan of an
 * empty (or tiny) webhook_endpoints table and writes nothing.
 */
export function statusEventsInsert(source: string, { accepted = false }: { accepted?: boolean } = {}): string {
  const types = accepted ? `(VALUES (1, 'request.accepted'), (2, ${TYPE_OF_STATUS}))` : `(VALUES (1, ${TYPE_OF_STATUS}))`;
  return `INSERT INTO webhook_events (endpoint_id, type, delivery_id, payload)
    SELECT p.id, t.type, m.id,
           jsonb_build_object('type', t.type, 'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'data', jsonb_strip_nulls(jsonb_build_object('request_id', m.request_id, 'delivery_id', m.id, 'channel', m.channel,
               'status', m.status, 'attempts', m.attempts, 'provider', m.provider, 'provider_message_id', m.provider_message_id,
               'error_code', CASE WHEN m.status::text <> 'sent' THEN m.last_error_code END)))
      FROM ${source} m
      CROSS JOIN LATERAL ${types} AS t(n, type)
      JOIN webhook_endpoints p ON p.enabled AND (t.type = ANY (p.events) OR '*' = ANY (p.events))
     WHERE t.type IS NOT NULL
     ORDER BY m.id, t.n, p.id`;
}
