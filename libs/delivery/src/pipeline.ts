import type { Pool } from "pg";
import type { Channel } from "@herald/db";
import { asDeliveryError, DeliveryError, PermanentDeliveryError, UndeliverableError } from "@herald/errors";
import { withCorrelation, type Logger } from "@herald/logger";
import {
  deliveryMessage,
  parseMessage,
  QueueConsumer,
  Republisher,
  type AmqpConnection,
  type ConfirmPublisher,
  type ConsumeMessage,
  type Settlement,
} from "@herald/messaging";
import { BreakerOpenError, ProviderBreaker, type BreakerPermit, type OutboundBudget, type OutboundBudgets } from "@herald/resilience";
import { renderVersion, type TemplateCatalog } from "@herald/templates";
import { channelEnabled, type UserDirectory } from "@herald/users";
import { withDeadline } from "./deadline";
import { DatabaseGate } from "./gate";
import type { ChannelHandler, SendContext } from "./handler";
import { WorkerInstance } from "./instance";
import type { WorkerMetrics } from "./metrics";
import { Outcomes } from "./outcomes";
import { DEADLINE_GRACE_MS, type WorkerPolicy } from "./policy";
import { DeliveryRepository, type LoadedDelivery } from "./repository";
import { Slots } from "./slots";
import { Watchdog } from "./watchdog";

export interface DeliveryWorkerDeps {
  /** The process's name (worker_instances.service). */
  service: string;
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
 * The worker runtime every channel shares, as a pipeline: consume a message, load its delivery,
 * prepare the send (user, template, render), wait for a provider connection and the rate budget,
 * claim the delivery, call the provider behind its breaker with a deadline; then hand the result
 * to Outcomes (sent, retry, dead letter, ...), which records it and settles the message.
 *
 * The order of the steps is what makes the guarantees hold:
 * - the claim (queued/retrying -> processing, naming this instance) is taken right before the
 *   provider call, conditional on the delivery being as it was read: a redelivered or duplicated
 *   message finds it claimed or finished and does not send it again, and a claim is always an
 *   attempt on the wire, so a killed worker leaves at most its provider connections unknown;
 * - a message whose delivery is claimed by a live instance looks again later (a delay queue);
 *   one claimed by a dead instance (no heartbeat for WORKER_DEAD_AFTER) is decided at once, by
 *   the channel's policy: sent again (the receiver can drop the copy by its stable id) or
 *   dead-lettered as delivery_interrupted;
 * - every provider call has a deadline (its own timeout plus a second, waiting for a pooled
 *   connection included); past it the call is a retryable failure and the provider's connections
 *   are thrown away, so a wedged pool or a half-open trial cannot hold the worker;
 * - an outcome that happened is kept until PostgreSQL has it, and while PostgreSQL is away the
 *   worker takes no new work (DatabaseGate);
 * - a message is acked only after its outcome is recorded and any message it leads to is confirmed.
 */
export class DeliveryWorker {
  readonly breakers = new Map<string, ProviderBreaker>();
  private readonly handlers = new Map<Channel, ChannelHandler>();
  private readonly connections = new Map<string, Slots>();
  private readonly budgets = new Map<Channel, OutboundBudget>();
  /** Deliveries this process is handling now: a second copy of one looks again later. */
  private readonly inHand = new Set<string>();
  private readonly instance: WorkerInstance;
  private readonly repository: DeliveryRepository;
  private readonly consumer: QueueConsumer;
  private readonly gate: DatabaseGate;
  private readonly outcomes: Outcomes;
  private readonly watchdog: Watchdog;
  private watchdogTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: DeliveryWorkerDeps,
    private readonly policy: WorkerPolicy,
    handlers: ChannelHandler[],
  ) {
    const deadlines = new Map<string, number>();
    for (const handler of handlers) {
      this.handlers.set(handler.channel, handler);
      deadlines.set(handler.provider, Math.max(deadlines.get(handler.provider) ?? 0, handler.deadlineMs + DEADLINE_GRACE_MS));
      if (!this.connections.has(handler.provider)) this.connections.set(handler.provider, new Slots(handler.concurrency));
      const perSecond = handler.budget?.perSecond ?? policy.rates[handler.channel] ?? 0;
      const budget = deps.budgets?.budget(handler.budget?.key ?? `${handler.provider}:${handler.channel}`, perSecond);
      if (budget) this.budgets.set(handler.channel, budget);
    }
    for (const [provider, deadlineMs] of deadlines) {
      // A trial has its call's deadline, plus time for its claim and its turn at the budget.
      const breaker = new ProviderBreaker(provider, { ...policy.breaker, trialTimeoutMs: 2 * deadlineMs + 5000 });
      this.watchBreaker(breaker);
      this.breakers.set(provider, breaker);
    }
    this.consumer = new QueueConsumer(deps.amqp, {
      queue: policy.queue,
      prefetch: policy.prefetch,
      handler: (message) => this.handle(message),
      logger: deps.logger,
    });
    this.instance = new WorkerInstance(deps.pool, deps.service, policy.heartbeatMs, () => this.health(), deps.logger);
    this.repository = new DeliveryRepository(deps.pool, this.instance.id, policy.deadAfterMs, policy.leaseMs);
    this.gate = new DatabaseGate(
      () => deps.pool.query("SELECT 1"),
      policy.databaseRetryMs,
      deps.logger,
      () => void this.consumer.hold("postgres"),
      () => void this.instance.beat().then(() => this.consumer.release("postgres")),
    );
    this.outcomes = new Outcomes({
      repository: this.repository,
      republisher: new Republisher(deps.publisher, policy.queue),
      gate: this.gate,
      policy,
      logger: deps.logger,
      metrics: deps.metrics,
    });
    const longest = Math.max(DEADLINE_GRACE_MS, ...deadlines.values());
    this.watchdog = new Watchdog(policy.stallAfterMs || 2 * longest + 10_000, () => this.consumer.inFlightCount, () => this.gate.isDown, deps.logger);
  }

  get instanceId(): string {
    return this.instance.id;
  }

  async start(): Promise<void> {
    await this.instance.register();
    await this.deps.budgets?.ready();
    await this.consumer.start();
    this.watchdogTimer = setInterval(() => this.watchdog.check(), 5000);
    this.watchdogTimer.unref();
  }

  /** Stops taking messages, waits for the ones in flight to be recorded and settled, marks the instance stopped. */
  async stop(): Promise<void> {
    clearInterval(this.watchdogTimer);
    await this.consumer.stop();
    for (const breaker of this.breakers.values()) breaker.shutdown();
    await this.instance.stop();
  }

  /** For /health/ready: throws while the worker holds messages and makes no progress. */
  readonly readiness = (): Promise<void> => {
    const report = this.watchdog.check();
    return report.stalled ? Promise.reject(new Error(`stalled: ${report.reason}`)) : Promise.resolve();
  };

  health(): Record<string, unknown> {
    return {
      queue: this.policy.queue,
      instance: this.instance.id,
      consuming: !this.consumer.isPaused,
      held_for: this.consumer.heldFor,
      in_flight: this.consumer.inFlightCount,
      outcomes_waiting_for_postgres: this.gate.held,
      breakers: Object.fromEntries([...this.breakers].map(([name, b]) => [name, b.state])),
      rate_budgets: Object.fromEntries([...this.budgets.values()].map((b) => [b.key, `${b.perSecond}/s`])),
    };
  }

  private watchBreaker(breaker: ProviderBreaker): void {
    const log = this.deps.logger.child({ provider: breaker.provider });
    const hold = `breaker ${breaker.provider}`;
    breaker.on("open", () => {
      log.warn("circuit breaker opened; pausing consumption", { queue: this.policy.queue });
      this.deps.metrics?.breakerState(breaker.provider, "open");
      void this.consumer.hold(hold);
    });
    breaker.on("half_open", () => {
      log.info("circuit breaker half-open; trying one message");
      this.deps.metrics?.breakerState(breaker.provider, "half_open");
      void this.consumer.release(hold);
    });
    breaker.on("closed", () => {
      log.info("circuit breaker closed");
      this.deps.metrics?.breakerState(breaker.provider, "closed");
      void this.consumer.release(hold);
    });
  }

  private async handle(message: ConsumeMessage): Promise<Settlement> {
    this.deps.metrics?.consumed(this.policy.queue);
    this.watchdog.progress();
    try {
      return await this.process(message);
    } finally {
      this.watchdog.progress();
    }
  }

  private async process(message: ConsumeMessage): Promise<Settlement> {
    const parsed = parseMessage(deliveryMessage, message);
    if (!parsed.ok) return this.outcomes.unprocessable(message, "unparseable_message", parsed.error);
    const { delivery_id: deliveryId, channel } = parsed.value;
    const handler = this.handlers.get(channel);
    if (!handler) return this.outcomes.unprocessable(message, "unknown_channel", `this worker has no handler for ${channel}`);
    if (this.inHand.has(deliveryId)) return this.outcomes.recheckLater(message, channel);
    this.inHand.add(deliveryId);
    try {
      let permit: BreakerPermit;
      try {
        permit = await this.breakers.get(handler.provider)!.acquire();
      } catch (error) {
        if (error instanceof BreakerOpenError) return "requeue";
        throw error;
      }
      try {
        return await this.attempt(message, deliveryId, handler, permit);
      } finally {
        permit.release();
      }
    } catch (error) {
      // PostgreSQL or the broker failed us before the provider was called: nothing happened, so
      // the message goes back (the gate holds the consumer while PostgreSQL is away).
      if (this.gate.failed(error)) return "requeue";
      this.deps.logger.error("delivery step failed; requeueing", { delivery_id: deliveryId, error: String(error) });
      await sleep(1000);
      return "requeue";
    } finally {
      this.inHand.delete(deliveryId);
    }
  }

  private async attempt(message: ConsumeMessage, deliveryId: string, handler: ChannelHandler, permit: BreakerPermit): Promise<Settlement> {
    const breaker = this.breakers.get(handler.provider)!;
    const loaded = await this.repository.load(deliveryId);
    switch (loaded.kind) {
      case "missing":
        return this.outcomes.unprocessable(message, "unknown_delivery", `no delivery ${deliveryId}`);
      case "finished":
      case "not_due":
        this.deps.metrics?.outcome(handler.channel, "duplicate");
        return "ack";
      case "on_the_wire":
        if (loaded.alive) return this.outcomes.recheckLater(message, handler.channel);
        if (!this.policy.resendInterrupted.has(handler.channel)) return this.outcomes.interrupted(message, loaded.delivery);
        this.deps.logger.warn("resending an attempt a dead worker left on the wire", { delivery_id: deliveryId, channel: handler.channel });
        break;
      case "ready":
        break;
    }
    const delivery = loaded.delivery;
    const log = withCorrelation(this.deps.logger, delivery.correlationId, {
      delivery_id: delivery.id,
      request_id: delivery.requestId,
      channel: delivery.channel,
      attempt: delivery.attempts + 1,
    });

    let context: SendContext | "suppressed";
    try {
      context = await this.prepare(delivery, log);
    } catch (caught) {
      if (!(caught instanceof DeliveryError)) throw caught;
      // Nothing to send: the attempt is claimed only to record why.
      const claimed = await this.repository.claim(delivery, handler.provider);
      return claimed ? this.outcomes.failed(message, claimed, caught, log) : "ack";
    }
    if (context === "suppressed") return this.outcomes.suppressed(delivery, log);

    const release = await this.connections.get(handler.provider)!.acquire();
    try {
      await this.budgets.get(handler.channel)?.take();
      const claimed = await this.repository.claim(delivery, handler.provider);
      if (!claimed) {
        // Another copy of this message claimed it between our read and our claim.
        this.deps.metrics?.outcome(handler.channel, "duplicate");
        return "ack";
      }
      context.delivery = claimed;
      const started = process.hrtime.bigint();
      let outcome;
      try {
        outcome = await permit.fire(() =>
          withDeadline(
            handler.provider,
            handler.deadlineMs + DEADLINE_GRACE_MS,
            () => handler.send(context),
            () => handler.reset?.(),
            (late) => log.warn("the provider call ended after its deadline", { outcome: late }),
          ),
        );
      } catch (caught) {
        release();
        if (caught instanceof BreakerOpenError) {
          await this.gate.persist("unclaim", () => this.repository.unclaim(claimed));
          return "requeue";
        }
        const error = asDeliveryError(caught);
        return await this.outcomes.failed(message, claimed, error, log, breaker.state !== "closed");
      }
      // The provider is done with it: the next delivery may take the connection while this one is recorded.
      release();
      this.watchdog.progress();
      return await this.outcomes.sent(claimed, outcome, log, started);
    } finally {
      release();
    }
  }

  /** Loads what the handler needs; throws a DeliveryError when the delivery cannot be sent at all. */
  private async prepare(delivery: LoadedDelivery, logger: Logger): Promise<SendContext | "suppressed"> {
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
    return { delivery: { ...delivery, attempt: delivery.attempts + 1 }, user, template, rendered, logger };
  }
}
