import { AppError } from "@herald/errors";
import { isUuid, type Database, type DeliveryStatus } from "@herald/db";
import { eventSourceColumns, statusEventsInsert } from "@herald/status-webhooks";
import type { NotificationQueries, RequestView } from "./status";

/** What can still be cancelled: nothing has been handed to a provider for it (or it is waiting to retry). */
export const CANCELLABLE: readonly DeliveryStatus[] = ["queued", "scheduled", "held", "retrying", "digesting"];

/**
 * POST /notifications/:id/cancel: every delivery of the request that has not gone out becomes
 * `cancelled`, in one conditional UPDATE. A message already in RabbitMQ stays there and is dropped
 * by the worker, which claims only queued and retrying deliveries; a scheduled or held one is never
 * released. A delivery being sent right now (processing) is not stopped.
 * 404 for an unknown request, 409 when nothing was left to cancel.
 */
export async function cancelNotification(db: Database, queries: NotificationQueries, requestId: string): Promise<RequestView> {
  if (!isUuid(requestId)) throw AppError.notFound("Notification");
  const { rows } = await db.pool.query<{ cancelled: number; exists: boolean }>(
    `WITH cancelled AS (
       UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
        WHERE request_id = $1 AND status = ANY($2::"DeliveryStatus"[])
       RETURNING ${eventSourceColumns()}),
     status_events AS (${statusEventsInsert("cancelled")})
     SELECT (SELECT count(*)::int FROM cancelled) AS cancelled,
            EXISTS (SELECT 1 FROM notification_requests WHERE id = $1) AS exists`,
    [requestId, CANCELLABLE],
  );
  const { cancelled, exists } = rows[0]!;
  if (!exists) throw AppError.notFound("Notification");
  if (cancelled === 0) {
    const view = await queries.get(requestId);
    throw new AppError(
      "conflict",
      "Nothing left to cancel: every delivery of this notification has already been sent, failed, or finished",
      view.deliveries.map((d) => ({ field: "status", channel: d.channel, message: `the ${d.channel} delivery is ${d.status}`, status: d.status })),
    );
  }
  return queries.get(requestId);
}
