import type { DeliveryError } from "@herald/errors";
import type { Logger } from "@herald/logger";
import { bodyOf, headerString, HEADERS, type ConsumeMessage, type Republisher, type Settlement } from "@herald/messaging";
import { decideRetry } from "@herald/resilience";
import type { DatabaseGate } from "./gate";
import type { SendOutcome } from "./handler";
import type { WorkerMetrics } from "./metrics";
import type { WorkerPolicy } from "./policy";
import type { ClaimedDelivery, DeadLetterRecord, DeliveryRepository, LoadedDelivery } from "./repository";

export interface OutcomeDeps {
  repository: DeliveryRepository;
  republisher: Republisher;
  gate: DatabaseGate;
  policy: WorkerPolicy;
  logger: Logger;
  metrics: WorkerMetrics | undefined;
}

/**
 * What becomes of a message once the worker knows: sent, retried, failed, dead-lettered,
 * interrupted, suppressed, unprocessable, or "look again later". Each records the outcome in
 * PostgreSQL first (kept and written again until PostgreSQL has it: see DatabaseGate), then
 * publishes whatever message it leads to (a retry, a dead letter) with a broker confirm, and only
 * then answers "ack": a crash at any point leaves the message to be redelivered, never nothing.
 * Every write is conditional on the attempt, so an outcome that is no longer this worker's to
 * record (another took the delivery over) changes nothing and publishes nothing.
 */
export class Outcomes {
  constructor(private readonly deps: OutcomeDeps) {}

  async sent(delivery: ClaimedDelivery, { providerMessageId, outcome }: SendOutcome, log: Logger, startedNs: bigint): Promise<Settlement> {
    const recorded = await this.deps.gate.persist("sent", () => this.deps.repository.markSent(delivery, providerMessageId, outcome));
    if (!recorded) log.warn("sent, but the attempt was no longer this worker's to record (taken over as interrupted)");
    this.deps.metrics?.outcome(delivery.channel, "sent", Number(process.hrtime.bigint() - startedNs) / 1e9);
    log.info("delivery sent", { provider_message_id: providerMessageId });
    return "ack";
  }

  /**
   * The attempt failed: retry after the policy's delay, or end it (failed, or dead-lettered).
   * `providerDown`: the failure opened the provider's breaker, or came while it was not closed
   * (a half-open trial, a call in flight when it opened). That says the provider is down, not that
   * this message is bad: the attempt is recorded, and the message goes back to the work queue to
   * wait for the breaker without spending one of its retries, so an outage of any length leaves
   * every message its full retries once the provider is back.
   */
  async failed(message: ConsumeMessage, delivery: ClaimedDelivery, error: DeliveryError, log: Logger, providerDown = false): Promise<Settlement> {
    const { repository, republisher, gate, policy, metrics } = this.deps;
    const failure = { errorCode: error.code, error: error.message, retryable: error.retryable, outcome: error.outcome };
    const headline = { attempt: delivery.attempt + 1, errorCode: error.code, error: error.message };
    if (providerDown && error.retryable) {
      if (await gate.persist("retrying", () => repository.markRetrying(delivery, failure, new Date()))) await republisher.toQueue(message, headline);
      metrics?.outcome(delivery.channel, "retried");
      log.warn("delivery attempt failed with the provider down; waiting for its breaker", { error_code: error.code, error: error.message });
      return "ack";
    }
    // Attempts made while the provider was down spend no retries.
    const downAttempts = Number(headerString(message, HEADERS.providerDownAttempts) ?? 0);
    const decision = decideRetry(policy.retry, delivery.attempt - downAttempts, error);
    if (decision.action === "retry") {
      const next = new Date(Date.now() + decision.delayMs);
      if (await gate.persist("retrying", () => repository.markRetrying(delivery, failure, next))) {
        await republisher.toDelay(message, decision.delayMs, headline);
      }
      metrics?.outcome(delivery.channel, "retried");
      log.warn("delivery attempt failed; retrying", { error_code: error.code, error: error.message, retry_in_ms: decision.delayMs });
      return "ack";
    }
    if (!error.deadLetter) {
      await gate.persist("failed", () => repository.markFinal(delivery, "failed", failure));
      metrics?.outcome(delivery.channel, "failed");
      log.warn("delivery failed", { error_code: error.code, error: error.message });
      return "ack";
    }
    await this.deadLetter(message, delivery, delivery.attempt, failure);
    log.warn("delivery dead-lettered", { error_code: error.code, error: error.message, reason: decision.reason });
    return "ack";
  }

  /**
   * A provider failed retryably and the next one is available: the failed call is recorded (an
   * attempt row naming its provider) and the attempt is handed over to the next provider at once,
   * with no backoff. Answers the delivery as claimed for the next provider, or undefined when the
   * attempt is no longer this worker's.
   */
  async failover(delivery: ClaimedDelivery, error: DeliveryError, next: string, log: Logger): Promise<ClaimedDelivery | undefined> {
    const failure = { errorCode: error.code, error: error.message, retryable: true, outcome: error.outcome };
    const moved = await this.deps.gate.persist("failover", () => this.deps.repository.failover(delivery, failure, next));
    this.deps.metrics?.outcome(delivery.channel, "failover");
    log.warn("provider failed; failing over to the next", { provider: delivery.provider, next, error_code: error.code, error: error.message });
    return moved ? { ...delivery, provider: next } : undefined;
  }

  /**
   * A dead worker left this attempt on the wire, and the channel's policy is not to resend: whether
   * the provider got it is unknown, so an operator decides (the dead letter can be replayed).
   */
  async interrupted(message: ConsumeMessage, delivery: LoadedDelivery): Promise<Settlement> {
    const text = "the worker stopped during the provider call; whether the provider got it is unknown, so it is not resent automatically";
    const attempt = { ...delivery, attempt: delivery.attempts };
    await this.deadLetter(message, attempt, delivery.attempts, { errorCode: "delivery_interrupted", error: text, retryable: false });
    this.deps.logger.warn("interrupted delivery dead-lettered", { delivery_id: delivery.id, channel: delivery.channel });
    return "ack";
  }

  /** At send time the user had turned the channel off. */
  async suppressed(delivery: LoadedDelivery, log: Logger): Promise<Settlement> {
    const reason = `${delivery.channel} was disabled in the user's preferences before sending`;
    await this.deps.gate.persist("suppressed", () => this.deps.repository.markSuppressed(delivery, reason));
    this.deps.metrics?.outcome(delivery.channel, "suppressed");
    log.info("delivery suppressed at send time");
    return "ack";
  }

  /** A copy of a message whose delivery is being sent right now: look again once that must be over. */
  async recheckLater(message: ConsumeMessage, channel: string): Promise<Settlement> {
    await this.deps.republisher.toDelay(message, this.deps.policy.recheckMs);
    this.deps.metrics?.outcome(channel, "duplicate");
    return "ack";
  }

  /** A message no delivery can come of (not JSON, unknown delivery, no handler): straight to failed.queue. */
  async unprocessable(message: ConsumeMessage, code: string, text: string): Promise<Settlement> {
    const record = deadLetterRecord(message, code, text, Number(headerString(message, HEADERS.attempt) ?? 1));
    await this.deps.gate.persist("dead letter", () => this.deps.repository.recordDeadLetter(record));
    await this.deps.republisher.toFailed(message, record.payload, { attempt: record.attempts, errorCode: code, error: text });
    this.deps.logger.warn("unprocessable message dead-lettered", { error_code: code, error: text, queue: this.deps.policy.queue });
    return "ack";
  }

  private async deadLetter(
    message: ConsumeMessage,
    delivery: ClaimedDelivery,
    attempts: number,
    failure: { errorCode: string; error: string; retryable: boolean; outcome?: unknown },
  ): Promise<void> {
    const record = deadLetterRecord(message, failure.errorCode, failure.error, attempts, delivery);
    const moved = await this.deps.gate.persist("dead letter", () => this.deps.repository.markFinal(delivery, "dead_lettered", failure, record));
    // Not moved: someone else ended this attempt already, and its dead letter (if any) is theirs.
    if (moved) await this.deps.republisher.toFailed(message, record.payload, { attempt: attempts, errorCode: failure.errorCode, error: failure.error });
    this.deps.metrics?.outcome(delivery.channel, "dead_lettered");
  }
}

function deadLetterRecord(message: ConsumeMessage, code: string, text: string, attempts: number, delivery?: LoadedDelivery): DeadLetterRecord {
  return {
    deliveryId: delivery?.id ?? headerString(message, HEADERS.deliveryId) ?? null,
    requestId: delivery?.requestId ?? headerString(message, HEADERS.requestId) ?? null,
    channel: delivery?.channel ?? headerString(message, HEADERS.channel) ?? null,
    correlationId: delivery?.correlationId ?? headerString(message, HEADERS.correlationId) ?? null,
    errorCode: code,
    error: text,
    attempts,
    routingKey: message.fields.routingKey,
    payload: bodyOf(message),
    headers: message.properties.headers ?? {},
  };
}
