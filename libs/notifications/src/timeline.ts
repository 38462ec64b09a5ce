import { AppError } from "@herald/errors";
import { isUuid, type Database } from "@herald/db";

/** One step of a request's life, with its time and reason. */
export interface TimelineEvent {
  at: string;
  /**
   * accepted, queued, scheduled, held, released, suppressed, failed, processing, attempt_failed,
   * retry_wait, sent, dead_lettered, replayed, cancelled; or a delivery status this console does not
   * know yet (shown as it is).
   */
  step: string;
  delivery_id?: string;
  channel?: string;
  provider?: string | null;
  attempt?: number;
  reason?: string;
  error_code?: string;
  /** retry_wait: how long the delivery waited before its next attempt. */
  wait_ms?: number;
  details?: Record<string, unknown>;
}

export interface Timeline {
  request_id: string;
  status_now: Record<string, string>;
  events: TimelineEvent[];
}

const iso = (d: Date) => d.toISOString();

/**
 * A request's timeline, built from the rows that already exist (the request, its deliveries with
 * release_at/claimed_at/sent_at/failed_at/last_error, every failed attempt, its dead letters and
 * their replays): nothing is written per status change on the hot path for it.
 */
export async function requestTimeline(db: Database, requestId: string, now = new Date()): Promise<Timeline> {
  if (!isUuid(requestId)) throw AppError.notFound("Notification");
  const request = await db.prisma.notificationRequest.findUnique({
    where: { id: requestId },
    include: { deliveries: { orderBy: { channel: "asc" }, include: { attemptLog: { orderBy: { id: "asc" } } } } },
  });
  if (!request) throw AppError.notFound("Notification");
  const deadLetters = await db.prisma.deadLetter.findMany({ where: { requestId }, orderBy: { id: "asc" } });

  const events: TimelineEvent[] = [
    {
      at: iso(request.createdAt),
      step: "accepted",
      reason: request.source === "event" ? `event ${request.eventType ?? ""}`.trim() : `through the API (${request.source})`,
      details: {
        template_id: request.templateId,
        priority: request.priority,
        correlation_id: request.correlationId,
        ...(request.idempotencyKey ? { idempotency_key: request.idempotencyKey } : {}),
        ...(request.sendAt ? { send_at: iso(request.sendAt) } : {}),
      },
    },
  ];
  const statusNow: Record<string, string> = {};

  for (const d of request.deliveries) {
    statusNow[d.channel] = d.status;
    const base = { delivery_id: d.id, channel: d.channel };
    const at = iso(d.createdAt);
    const decidedAtAccept = d.lastErrorCode === "suppressed" || d.lastErrorCode === "channel_not_available";
    if (d.status === "suppressed") {
      events.push({ ...base, at: decidedAtAccept ? at : iso(d.updatedAt), step: "suppressed", reason: d.lastError ?? "the user's preferences turned the channel off" });
      continue;
    }
    if (d.status === "failed" && d.lastErrorCode === "channel_not_available") {
      events.push({ ...base, at, step: "failed", reason: d.lastError ?? "the user has no address for this channel", error_code: "channel_not_available" });
      continue;
    }
    if (d.releaseAt) {
      const scheduled = request.sendAt !== null && d.releaseAt.getTime() === request.sendAt.getTime();
      events.push({
        ...base,
        at,
        step: scheduled ? "scheduled" : "held",
        reason: scheduled ? `send_at ${iso(d.releaseAt)}` : `inside the user's quiet hours, held until ${iso(d.releaseAt)}`,
        details: { release_at: iso(d.releaseAt) },
      });
      if (d.status !== "scheduled" && d.status !== "held" && d.releaseAt <= now && !(d.status === "cancelled" && d.updatedAt < d.releaseAt)) {
        events.push({ ...base, at: iso(d.releaseAt), step: "released", reason: "its release time came: put in its queue" });
      }
    } else {
      events.push({ ...base, at, step: "queued", reason: "published to its queue" });
    }

    const attempts = d.attemptLog;
    attempts.forEach((a, i) => {
      events.push({ ...base, at: iso(a.createdAt), step: "attempt_failed", attempt: a.attempt, provider: a.provider, error_code: a.errorCode, reason: a.error, details: { retryable: a.retryable } });
      const next = attempts[i + 1];
      const nextAt = next ? next.createdAt : i === attempts.length - 1 && d.status === "retrying" ? d.nextAttemptAt : null;
      if (a.retryable && nextAt && (!next || next.attempt > a.attempt)) {
        events.push({ ...base, at: iso(a.createdAt), step: "retry_wait", attempt: a.attempt, wait_ms: Math.max(0, nextAt.getTime() - a.createdAt.getTime()), reason: `next attempt at ${iso(nextAt)}` });
      }
    });

    for (const dl of deadLetters.filter((x) => x.deliveryId === d.id)) {
      events.push({ ...base, at: iso(dl.createdAt), step: "dead_lettered", error_code: dl.errorCode, reason: dl.error, details: { dead_letter_id: dl.id, attempts: dl.attempts } });
      if (dl.replayedAt) {
        events.push({ ...base, at: iso(dl.replayedAt), step: "replayed", reason: `replayed from the dead-letter queue (${dl.replayCount} time${dl.replayCount === 1 ? "" : "s"}); attempts start again`, details: { dead_letter_id: dl.id } });
      }
    }

    switch (d.status) {
      case "sent":
        events.push({ ...base, at: iso(d.sentAt ?? d.updatedAt), step: "sent", attempt: d.attempts, provider: d.provider, details: { provider_message_id: d.providerMessageId } });
        break;
      case "processing":
        events.push({ ...base, at: iso(d.claimedAt ?? d.updatedAt), step: "processing", attempt: d.attempts, provider: d.provider, reason: "handed to the provider; its answer is awaited" });
        break;
      case "failed":
        events.push({ ...base, at: iso(d.failedAt ?? d.updatedAt), step: "failed", error_code: d.lastErrorCode ?? undefined, reason: d.lastError ?? "failed" });
        break;
      case "dead_lettered":
        if (!deadLetters.some((x) => x.deliveryId === d.id)) {
          events.push({ ...base, at: iso(d.failedAt ?? d.updatedAt), step: "dead_lettered", error_code: d.lastErrorCode ?? undefined, reason: d.lastError ?? "dead-lettered" });
        }
        break;
      case "cancelled":
        events.push({ ...base, at: iso(d.updatedAt), step: "cancelled", reason: "POST /notifications/:id/cancel before it was sent" });
        break;
      case "queued":
      case "retrying":
      case "scheduled":
      case "held":
        break;
      default:
        // A status this timeline has no story for (digesting, digested, throttled, ...): shown as it is.
        events.push({ ...base, at: iso(d.updatedAt), step: d.status, ...(d.lastError ? { reason: d.lastError } : {}), ...(d.lastErrorCode ? { error_code: d.lastErrorCode } : {}) });
    }
  }
  const order = (e: TimelineEvent) => (e.step === "accepted" ? 0 : 1);
  events.sort((a, b) => a.at.localeCompare(b.at) || order(a) - order(b));
  return { request_id: request.id, status_now: statusNow, events };
}
