import type { Pool } from "pg";
import type { Channel } from "@herald/db";
import { asDeliveryError, DeliveryError, PermanentDeliveryError, UndeliverableError } from "@herald/errors";
import { withCorrelation, type Logger } from "@herald/logger";
import {
  FAILED_QUEUE,
  HEADERS,
  delayQueueName,
  deliveryMessage,
  headerString,
  parseMessage,
  QueueConsumer,
  type AmqpConnection,
  type ConfirmPublisher,
  type ConsumeMessage,
  type Settlement,
} from "@herald/messaging";
import {
  BreakerOpenError,
  decideRetry,
  ProviderBreaker,
  retryDelays,
  type BreakerOptions,
  type OutboundBudget,
  type OutboundBudgets,
  type RetryPolicy,
} from "@herald/resilience";
import { renderVersion, type TemplateCatalog } from "@herald/templates";
import { channelEnabled, type UserDirectory } from "@herald/users";
import type { ChannelHandler, SendContext, SendOutcome } from "./handler";
import type { WorkerMetrics } from "./metrics";
import { DeliveryRepository, type ClaimedDelivery, type DeadLetterRecord } from "./repository";
import { Slots } from "./slots";

export interface DeliveryWorkerOptions {
  queue: string;
  handlers: ChannelHandler[];
  prefetch: number;
  retry: RetryPolicy;
  breaker: BreakerOptions;
  /** An attempt older than this is presumed dead (its worker was killed mid-send). */
  leaseMs?: number;
  /** Pause before requeueing a message that failed for an infrastructure reason (PostgreSQL down). */
  infraBackoffMs?: number;
  /** Outbound sends per second by channel (EMAIL_RATE_PER_SECOND, ...), unless a handler names its own; 0 = unlimited. */
  rates?: Partial<Record<Channel, number>>;
}

export interface DeliveryWorkerDeps {
  pool: Pool;
  amqp: AmqpConnection;
  publisher: ConfirmPublisher;
  users: UserDirectory;
  templates: TemplateCatalog;
  logger: Logger;
  metrics?: WorkerMetrics;
  /** Where the outbound rate budgets live (Redis); without it sends are not rate-limited. */
  budgets?: OutboundBudgets;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The worker runtime every channel shares: consume a work queue, claim the delivery, render its
 * template, send through the channel's handler behind the provider's breaker, and record the
 * outcome; on failure retry through the delay queues or dead-letter to failed.queue.
 *
 * The order of each step is what makes the guarantees hold:
 * - a message is acked only after its outcome is in PostgreSQL and any message it leads to
 *   (retry, dead letter) is confirmed by the broker: a crash at any point loses nothing;
 * - a delivery is claimed (queued/retrying -> processing) right before the provider call, so a
 *   redelivered or duplicated message finds it sent or busy and does not send it again;
 * - at most twice as many deliveries are claimed as the provider has connections, so a killed
 *   worker leaves at most that many attempts whose outcome is unknown (dead-lettered as
 *   delivery_interrupted after the lease, for an operator to judge), never its whole prefetch;
 * - the outbound rate budget is taken by a message holding a connection slot, right before its
 *   claim: sends cannot bunch up behind it, and waiting for budget does not run down the lease.
 */
export class DeliveryWorker {
  readonly breakers = new Map<string, ProviderBreaker>();
  private readonly handlers = new Map<Channel, ChannelHandler>();
  private readonly slots = new Map<string, Slots>();
  private readonly budgets = new Map<Channel, OutboundBudget>();
  private readonly repository: DeliveryRepository;
  private readonly consumer: QueueConsumer;
  private readonly longestDelayMs: number;

  constructor(
    private readonly deps: DeliveryWorkerDeps,
    private readonly options: DeliveryWorkerOptions,
  ) {
    this.repository = new DeliveryRepository(deps.pool, options.leaseMs ?? 60_000);
    this.longestDelayMs = Math.max(...retryDelays(options.retry), options.retry.baseDelayMs);
    for (const handler of options.handlers) {
      this.handlers.set(handler.channel, handler);
      if (!this.breakers.has(handler.provider)) {
        const breaker = new ProviderBreaker(handler.provider, options.breaker);
        this.watchBreaker(breaker);
        this.breakers.set(handler.provider, breaker);
        // Twice the provider's connections: the next deliveries are claimed and rendered while the
        // current ones are on the wire, so no connection waits on PostgreSQL between two sends.
        this.slots.set(handler.provider, new Slots(handler.concurrency * 2));
      }
      const perSecond = handler.budget?.perSecond ?? options.rates?.[handler.channel] ?? 0;
      const budget = deps.budgets?.budget(handler.budget?.key ?? `${handler.provider}:${handler.channel}`, perSecond);
      if (budget) this.budgets.set(handler.channel, budget);
    }
    this.consumer = new QueueConsumer(deps.amqp, {
      queue: options.queue,
      prefetch: options.prefetch,
      handler: (message) => this.handle(message),
      logger: deps.logger,
    });
  }

  async start(): Promise<void> {
    await this.deps.budgets?.ready();
    await this.consumer.start();
  }

  /** Stops taking messages and waits for the ones in flight to be recorded and settled. */
  async stop(): Promise<void> {
    await this.consumer.stop();
    for (const breaker of this.breakers.values()) breaker.shutdown();
  }

  health(): Record<string, unknown> {
    return {
      queue: this.options.queue,
      consuming: !this.consumer.isPaused,
      in_flight: this.consumer.inFlightCount,
      breakers: Object.fromEntries([...this.breakers].map(([name, b]) => [name, b.state])),
      rate_budgets: Object.fromEntries([...this.budgets.values()].map((b) => [b.key, `${b.perSecond}/s`])),
    };
  }

  private watchBreaker(breaker: ProviderBreaker): void {
    const log = this.deps.logger.child({ provider: breaker.provider });
    const anyOpen = () => [...this.breakers.values()].some((b) => b.state === "open");
    breaker.on("open", () => {
      log.warn("circuit breaker opened; pausing consumption", { queue: this.options.queue });
      this.deps.metrics?.breakerState(breaker.provider, "open");
      void this.consumer.pause();
    });
    breaker.on("half_open", () => {
      log.info("circuit breaker half-open; trying one message");
      this.deps.metrics?.breakerState(breaker.provider, "half_open");
      if (!anyOpen()) void this.consumer.resume();
    });
    breaker.on("closed", () => {
      log.info("circuit breaker closed");
      this.deps.metrics?.breakerState(breaker.provider, "closed");
      if (!anyOpen()) void this.consumer.resume();
    });
  }

  private async handle(message: ConsumeMessage): Promise<Settlement> {
    const parsed = parseMessage(deliveryMessage, message);
    if (!parsed.ok) return this.deadLetterUnprocessable(message, "unparseable_message", parsed.error);
    const { delivery_id: deliveryId, channel } = parsed.value;
    const handler = this.handlers.get(channel);
    if (!handler) return this.deadLetterUnprocessable(message, "unknown_channel", `this worker has no handler for ${channel}`);
    const breaker = this.breakers.get(handler.provider)!;
    const slots = this.slots.get(handler.provider)!;

    let permit;
    try {
      permit = await breaker.acquire();
    } catch (error) {
      if (error instanceof BreakerOpenError) return "requeue";
      throw error;
    }
    const release = await slots.acquire();
    try {
      await this.budgets.get(channel)?.take();
      return await this.attempt(message, deliveryId, handler, permit, release);
    } catch (error) {
      // PostgreSQL or the broker failed us, not the provider: try again shortly.
      this.deps.logger.error("delivery step failed; requeueing", { delivery_id: deliveryId, error: String(error) });
      await sleep(this.options.infraBackoffMs ?? 1000);
      return "requeue";
    } finally {
      release();
      permit.release();
    }
  }

  private async attempt(
    message: ConsumeMessage,
    deliveryId: string,
    handler: ChannelHandler,
    permit: Awaited<ReturnType<ProviderBreaker["acquire"]>>,
    releaseSlot: () => void,
  ): Promise<Settlement> {
    const claim = await this.repository.claim(deliveryId);
    switch (claim.kind) {
      case "missing":
        return this.deadLetterUnprocessable(message, "unknown_delivery", `no delivery ${deliveryId}`);
      case "finished":
      case "not_due":
        this.deps.metrics?.outcome(handler.channel, "duplicate");
        return "ack";
      case "busy":
        if (claim.leaseExpired) return this.interrupted(message, deliveryId, handler, claim.attempts);
        // Another copy of this message is being sent right now: look again once it must be done.
        await this.deps.publisher.publish({
          exchange: "",
          routingKey: delayQueueName(this.options.queue, this.longestDelayMs),
          body: JSON.parse(message.content.toString("utf8")) as unknown,
          headers: message.properties.headers ?? {},
          priority: message.properties.priority as number | undefined,
        });
        return "ack";
      case "claimed":
        break;
    }
    const delivery = claim.delivery;
    const log = withCorrelation(this.deps.logger, delivery.correlationId, {
      delivery_id: delivery.id,
      request_id: delivery.requestId,
      channel: delivery.channel,
      attempt: delivery.attempt,
    });

    let context: SendContext | "suppressed";
    try {
      context = await this.prepare(delivery, log);
    } catch (caught) {
      if (caught instanceof DeliveryError) return this.failed(message, delivery, caught, log);
      await this.repository.unclaim(delivery.id).catch(() => undefined);
      throw caught;
    }
    if (context === "suppressed") {
      await this.repository.markSuppressed(delivery.id, `${delivery.channel} was disabled in the user's preferences before sending`);
      this.deps.metrics?.outcome(delivery.channel, "suppressed");
      log.info("delivery suppressed at send time");
      return "ack";
    }

    const started = process.hrtime.bigint();
    let outcome;
    try {
      outcome = await permit.fire(() => handler.send(context));
    } catch (caught) {
      releaseSlot();
      if (caught instanceof BreakerOpenError) {
        await this.repository.unclaim(delivery.id);
        return "requeue";
      }
      return this.failed(message, delivery, asDeliveryError(caught), log);
    }
    // The provider is done with it: the next delivery may take the slot while this one is recorded.
    releaseSlot();
    await this.recordSent(delivery.id, outcome, log);
    this.deps.metrics?.outcome(delivery.channel, "sent", Number(process.hrtime.bigint() - started) / 1e9);
    log.info("delivery sent", { provider_message_id: outcome.providerMessageId });
    return "ack";
  }

  /** Loads what the handler needs; throws a DeliveryError when the delivery cannot be sent at all. */
  private async prepare(delivery: ClaimedDelivery, logger: Logger): Promise<SendContext | "suppressed"> {
    const user = await this.deps.users.find(delivery.userId);
    if (!user) throw new UndeliverableError("user_not_found", "the user was deleted");
    if (!channelEnabled(user, delivery.channel)) return "suppressed";
    const template = delivery.templateVersionId ? await this.deps.templates.version(delivery.templateVersionId) : undefined;
    if (!template) throw new PermanentDeliveryError("template_not_found", "the template version of this delivery no longer exists");
    let rendered;
    try {
      rendered = renderVersion(template, delivery.variables);
    } catch (error) {
      throw new PermanentDeliveryError("render_failed", `the template did not render: ${String(error)}`);
    }
    return { delivery, user, template, rendered, logger };
  }

  private async recordSent(deliveryId: string, { providerMessageId, outcome }: SendOutcome, log: Logger): Promise<void> {
    // The provider has it: recording must not give up on a short database hiccup, or a
    // redelivery would find the attempt unfinished.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.repository.markSent(deliveryId, providerMessageId, outcome);
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        log.warn("could not record a sent delivery; retrying", { error: String(error) });
        await sleep(200 * 2 ** attempt);
      }
    }
  }

  private async failed(message: ConsumeMessage, delivery: ClaimedDelivery, error: DeliveryError, log: Logger): Promise<Settlement> {
    const decision = decideRetry(this.options.retry, delivery.attempt, error);
    if (decision.action === "retry") {
      await this.repository.markRetrying(delivery.id, error.code, error.message, new Date(Date.now() + decision.delayMs), error.outcome);
      await this.deps.publisher.publish({
        exchange: "",
        routingKey: delayQueueName(this.options.queue, decision.delayMs),
        body: JSON.parse(message.content.toString("utf8")) as unknown,
        priority: message.properties.priority as number | undefined,
        headers: {
          ...message.properties.headers,
          [HEADERS.attempt]: delivery.attempt + 1,
          [HEADERS.lastError]: error.message.slice(0, 1000),
          [HEADERS.errorCode]: error.code,
        },
      });
      this.deps.metrics?.outcome(delivery.channel, "retried");
      log.warn("delivery attempt failed; retrying", { error_code: error.code, error: error.message, retry_in_ms: decision.delayMs });
      return "ack";
    }
    if (!error.deadLetter) {
      await this.repository.markFinalFailure(delivery.id, "failed", error.code, error.message, false, undefined, error.outcome);
      this.deps.metrics?.outcome(delivery.channel, "failed");
      log.warn("delivery failed", { error_code: error.code, error: error.message });
      return "ack";
    }
    const record = this.deadLetterRecord(message, error.code, error.message, delivery.attempt, delivery);
    await this.repository.markFinalFailure(delivery.id, "dead_lettered", error.code, error.message, error.retryable, record, error.outcome);
    await this.publishDeadLetter(message, record);
    this.deps.metrics?.outcome(delivery.channel, "dead_lettered");
    log.warn("delivery dead-lettered", { error_code: error.code, error: error.message, reason: decision.reason });
    return "ack";
  }

  /** The attempt before this one started and never finished: its outcome is unknown. */
  private async interrupted(message: ConsumeMessage, deliveryId: string, handler: ChannelHandler, attempts: number): Promise<Settlement> {
    const text = "the worker stopped during the send; whether the provider got it is unknown, so it is not resent automatically";
    const record = this.deadLetterRecord(message, "delivery_interrupted", text, attempts);
    await this.repository.markFinalFailure(deliveryId, "dead_lettered", "delivery_interrupted", text, false, record);
    await this.publishDeadLetter(message, record);
    this.deps.metrics?.outcome(handler.channel, "dead_lettered");
    this.deps.logger.warn("interrupted delivery dead-lettered", { delivery_id: deliveryId });
    return "ack";
  }

  /** A message no delivery can come of (not JSON, unknown delivery): straight to failed.queue. */
  private async deadLetterUnprocessable(message: ConsumeMessage, code: string, text: string): Promise<Settlement> {
    const record = this.deadLetterRecord(message, code, text, Number(headerString(message, HEADERS.attempt) ?? 1));
    await this.repository.recordDeadLetter(record);
    await this.publishDeadLetter(message, record);
    this.deps.logger.warn("unprocessable message dead-lettered", { error_code: code, error: text, queue: this.options.queue });
    return "ack";
  }

  private deadLetterRecord(message: ConsumeMessage, code: string, text: string, attempts: number, delivery?: ClaimedDelivery): DeadLetterRecord {
    const raw = message.content.toString("utf8");
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      payload = { raw };
    }
    return {
      deliveryId: delivery?.id ?? headerString(message, HEADERS.deliveryId) ?? null,
      requestId: delivery?.requestId ?? headerString(message, HEADERS.requestId) ?? null,
      channel: delivery?.channel ?? headerString(message, HEADERS.channel) ?? null,
      correlationId: delivery?.correlationId ?? headerString(message, HEADERS.correlationId) ?? null,
      errorCode: code,
      error: text,
      attempts,
      routingKey: message.fields.routingKey,
      payload,
      headers: message.properties.headers ?? {},
    };
  }

  private async publishDeadLetter(message: ConsumeMessage, record: DeadLetterRecord): Promise<void> {
    await this.deps.publisher.publish({
      exchange: "",
      routingKey: FAILED_QUEUE,
      body: record.payload,
      priority: message.properties.priority as number | undefined,
      headers: {
        ...message.properties.headers,
        [HEADERS.attempt]: record.attempts,
        [HEADERS.lastError]: record.error.slice(0, 1000),
        [HEADERS.errorCode]: record.errorCode,
        [HEADERS.originalQueue]: this.options.queue,
        "x-dead-lettered-at": new Date().toISOString(),
      },
    });
  }
}
