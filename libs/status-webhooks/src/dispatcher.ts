import type { Pool } from "pg";
import { PeriodicJob, type JobContext } from "@herald/jobs";
import type { Logger } from "@herald/logger";
import { answerError, HttpPoster, standardWebhookHeaders, type HttpPosterOptions } from "@herald/providers";

export interface DispatcherOptions {
  /** How often due events are looked for (STATUS_WEBHOOK_INTERVAL). */
  intervalMs: number;
  /**
   * The wait before each attempt (STATUS_WEBHOOK_RETRY_SCHEDULE): Standard Webhooks' 0, 5 s,
   * 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default; after the last failed attempt the event is
   * given up (state failed).
   */
  scheduleMs: readonly number[];
  /** An endpoint failing for this long without one success is disabled (STATUS_WEBHOOK_DISABLE_AFTER). */
  disableAfterMs: number;
  /** Posts in flight at once. */
  concurrency: number;
  /** Delivered and given-up events are kept this long (for GET /webhook-endpoints' counts and debugging). */
  retentionMs: number;
  /** The HTTP side, shared with the webhook channel: timeout, SSRF guard, test hooks. */
  http: Pick<HttpPosterOptions, "timeoutMs" | "allowPrivate" | "resolver" | "ca">;
  batchSize?: number;
  /** Called once per post (metrics): delivered, retrying, or gave_up. */
  onPost?: (outcome: "delivered" | "retrying" | "gave_up") => void;
}

interface Claimed {
  id: string;
  type: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  attempts: number;
  url: string;
  secret: string;
  previous: string | null;
}

/** The webhook-id of a status event: the same on every attempt. */
export const eventMessageId = (eventId: string) => `msg_evt_${eventId}`;

/**
 * Posts status events from the `webhook_events` outbox to their endpoints, signed the Standard
 * Webhooks way, with retries on the schedule. At least once, and in order per (endpoint,
 * delivery): only an event with no earlier pending event of its delivery for that endpoint is
 * taken, so a later event waits behind one that is being retried.
 *
 * Safe with several replicas: a pass claims due events with FOR UPDATE SKIP LOCKED and leases
 * them (next_attempt_at moves past the post's timeout) before posting outside any transaction;
 * a dispatcher that dies mid-post leaves its claims to be taken again when the lease runs out
 * (the receiver may then see an event twice, with the same webhook-id).
 */
export class StatusWebhookDispatcher {
  private readonly poster: HttpPoster;
  private readonly batchSize: number;
  private readonly job: PeriodicJob;
  private lastPurge = 0;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {
    this.poster = new HttpPoster({ name: "status_webhook", maxSockets: options.concurrency, ...options.http });
    this.batchSize = options.batchSize ?? Math.max(50, options.concurrency * 5);
    this.job = new PeriodicJob({
      name: "status webhook",
      intervalMs: options.intervalMs,
      firstRunAfterMs: 0,
      logger,
      run: async (context) => {
        await this.runOnce(context);
      },
    });
  }

  start(): void {
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
    this.poster.close();
  }

  /**
   * Posts everything due now, batch after batch; returns how many posts were made. Run by the
   * job, a pass that is being stopped ends after its current batch.
   */
  async runOnce(context: JobContext = { stopping: false }): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.claim();
      total += claimed.length;
      await this.postAll(claimed);
      if (claimed.length < this.batchSize || context.stopping) break;
    }
    if (Date.now() - this.lastPurge > 60_000) {
      this.lastPurge = Date.now();
      await this.pool.query(
        `DELETE FROM webhook_events WHERE state <> 'pending' AND finished_at < now() - make_interval(secs => $1::float8 / 1000)`,
        [this.options.retentionMs],
      );
    }
    return total;
  }

  private async claim(): Promise<Claimed[]> {
    const leaseMs = this.options.http.timeoutMs + 5000;
    const { rows } = await this.pool.query<Claimed>(
      `WITH due AS (
         SELECT e.id FROM webhook_events e
           JOIN webhook_endpoints p ON p.id = e.endpoint_id AND p.enabled
          WHERE e.state = 'pending' AND e.next_attempt_at <= now()
            AND NOT EXISTS (SELECT 1 FROM webhook_events o
                             WHERE o.endpoint_id = e.endpoint_id AND o.delivery_id = e.delivery_id
                               AND o.state = 'pending' AND o.id < e.id)
          ORDER BY e.next_attempt_at, e.id
          LIMIT $1
          FOR UPDATE OF e SKIP LOCKED)
       UPDATE webhook_events e
          SET attempts = e.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::float8 / 1000)
         FROM due, webhook_endpoints p
        WHERE e.id = due.id AND p.id = e.endpoint_id
      RETURNING e.id, e.type, e.payload, e.attempts, p.url, p.secret,
                CASE WHEN p.secret_previous_expires_at > now() THEN p.secret_previous END AS previous`,
      [this.batchSize, leaseMs],
    );
    return rows;
  }

  private async postAll(events: Claimed[]): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < events.length) await this.post(events[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, events.length) }, lane));
  }

  private async post(event: Claimed): Promise<void> {
    // The body in the order the contract shows it (jsonb keeps its own key order).
    const body = JSON.stringify({ type: event.payload.type, timestamp: event.payload.timestamp, data: event.payload.data });
    const secrets = event.previous ? [event.secret, event.previous] : [event.secret];
    let error: string | undefined;
    try {
      const answer = await this.poster.post(event.url, body, standardWebhookHeaders(secrets, eventMessageId(event.id), Math.floor(Date.now() / 1000), body));
      error = answerError("status_webhook", answer)?.message;
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    if (error === undefined) {
      await this.pool.query(
        `WITH done AS (
           UPDATE webhook_events SET state = 'delivered', finished_at = now(), last_error = NULL
            WHERE id = $1 AND attempts = $2 AND state = 'pending'
           RETURNING endpoint_id)
         UPDATE webhook_endpoints SET failing_since = NULL, last_error = NULL, last_success_at = now()
          WHERE id IN (SELECT endpoint_id FROM done)`,
        [event.id, event.attempts],
      );
      this.options.onPost?.("delivered");
      return;
    }
    const { scheduleMs, disableAfterMs } = this.options;
    const giveUp = event.attempts >= scheduleMs.length;
    await this.pool.query(
      `WITH moved AS (
         UPDATE webhook_events
            SET state = CASE WHEN $3 THEN 'failed' ELSE 'pending' END, last_error = $5,
                next_attempt_at = now() + make_interval(secs => $4::float8 / 1000),
                finished_at = CASE WHEN $3 THEN now() END
          WHERE id = $1 AND attempts = $2 AND state = 'pending'
         RETURNING endpoint_id)
       UPDATE webhook_endpoints p
          SET failing_since = COALESCE(p.failing_since, now()), last_error = $5,
              enabled = p.enabled AND NOT coalesce(p.failing_since <= now() - make_interval(secs => $6::float8 / 1000), false),
              disabled_reason = CASE WHEN p.failing_since <= now() - make_interval(secs => $6::float8 / 1000)
                                     THEN 'every post failed since ' || to_char(p.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                                          || '; PATCH enabled: true to resume'
                                     ELSE p.disabled_reason END,
              updated_at = now()
        WHERE p.id IN (SELECT endpoint_id FROM moved)`,
      [event.id, event.attempts, giveUp, giveUp ? 0 : (scheduleMs[event.attempts] ?? 0), error.slice(0, 500), disableAfterMs],
    );
    this.options.onPost?.(giveUp ? "gave_up" : "retrying");
    this.logger.warn(giveUp ? "status webhook given up" : "status webhook failed; retrying", { event_id: event.id, type: event.type, url: event.url, attempt: event.attempts, error });
  }
}
