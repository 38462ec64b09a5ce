import type { Pool } from "pg";
import type { Channel } from "@herald/db";
import { asDeliveryError, DeliveryError, PermanentDeliveryError, RetryableDeliveryError, UndeliverableError } from "@herald/errors";
import { withCorrelation, type Logger } from "@herald/logger";
import {
  deliveryMessage,
  parseMessage,
  consumedQueues,
  PRIORITY_VALUES,
  QueueConsumer,
  Republisher,
  type AmqpConnection,
  type ConfirmPublisher,
  type ConsumeMessage,
  type Settlement,
} from "@herald/messaging";
import { BreakerOpenError, ProviderBreaker, type BreakerPermit, type OutboundBudget, type OutboundBudgets } from "@herald/resilience";
import { renderVersion, type TemplateCatalog } from "@herald/templates";
import { channelEnabled } from "@herald/channels";
import type { UserDirectory } from "@herald/users";
import { withDeadline } from "./deadline";
import { DatabaseGate } from "./gate";
import type { ChannelHandler, SendContext } from "./handler";
import { WorkerInstance } from "./instance";
import type { WorkerMetrics } from "./metrics";
import { Outcomes } from "./outcomes";
import { DEADLINE_GRACE_MS, type WorkerPolicy } from "./policy";
import { DeliveryRepository, type ClaimedDelivery, type LoadedDelivery } from "./repository";
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
  /** Each channel's providers, in order of preference: the first available one is used. */
  private readonly routes = new Map<Channel, ChannelHandler[]>();
  private readonly connections = new Map<string, Slots>();
  /** One budget per provider and channel ("<provider>:<channel>"). */
  private readonly budgets = new Map<ChannelHandler, OutboundBudget>();
  /** Deliveries this process is handling now: a second copy of one looks again later. */
  private readonly inHand = new Set<string>();
  private readonly instance: WorkerInstance;
  private readonly repository: DeliveryRepository;
  /** One consumer per consumed queue (quorum queues: the priority queue, then the work queue). */
  private readonly consumers: QueueConsumer[];
  private readonly gate: DatabaseGate;
  /** Outcomes per consumed queue: a retry returns a message to the queue it came from. */
  private readonly outcomes = new Map<string, Outcomes>();
  private readonly watchdog: Watchdog;
  private watchdogTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: DeliveryWorkerDeps,
    private readonly policy: WorkerPolicy,
    handlers: ChannelHandler[],
  ) {
    const deadlines = new Map<string, number>();
    const thresholds = new Map<string, number>();
    for (const handler of handlers) {
      this.routes.set(handler.channel, [...(this.routes.get(handler.channel) ?? []), handler]);
      deadlines.set(handler.provider, Math.max(deadlines.get(handler.provider) ?? 0, handler.deadlineMs + DEADLINE_GRACE_MS));
      if (handler.breakerFailureThreshold !== undefined) thresholds.set(handler.provider, handler.breakerFailureThreshold);
      if (!this.connections.has(handler.provider)) this.connections.set(handler.provider, new Slots(handler.concurrency));
      const perSecond = handler.budget?.perSecond ?? policy.rates[handler.channel] ?? 0;
      const budget = deps.budgets?.budget(handler.budget?.key ?? `${handler.provider}:${handler.channel}`, perSecond);
      if (budget) this.budgets.set(handler, budget);
    }
    for (const [provider, deadlineMs] of deadlines) {
      // A trial has its call's deadline, plus time for its claim and its turn at the budget.
      const failureThreshold = thresholds.get(provider) ?? policy.breaker.failureThreshold;
      const breaker = new ProviderBreaker(provider, { ...policy.breaker, failureThreshold, trialTimeoutMs: 2 * deadlineMs + 5000 });
      this.watchBreaker(breaker);
      this.breakers.set(provider, breaker);
    }
    this.consumers = consumedQueues(policy.queue, policy.queueType).map(
      (queue) =>
        new QueueConsumer(deps.amqp, {
          queue,
          prefetch: policy.prefetch,
          handler: (message) => this.handle(message, this.outcomes.get(queue)!),
          logger: deps.logger,
        }),
    );
    this.instance = new WorkerInstance(deps.pool, deps.service, policy.heartbeatMs, () => this.health(), deps.logger);
    this.repository = new DeliveryRepository(deps.pool, this.instance.id, policy.deadAfterMs, policy.leaseMs);
    this.gate = new DatabaseGate(
      () => deps.pool.query("SELECT 1"),
      policy.databaseRetryMs,
      deps.logger,
      () => this.hold("postgres"),
      () => void this.instance.beat().then(() => this.release("postgres")),
    );
    for (const queue of consumedQueues(policy.queue, policy.queueType)) {
      this.outcomes.set(
        queue,
        new Outcomes({ repository: this.repository, republisher: new Republisher(deps.publisher, queue), gate: this.gate, policy, logger: deps.logger, metrics: deps.metrics }),
      );
    }
    const longest = Math.max(DEADLINE_GRACE_MS, ...deadlines.values());
    this.watchdog = new Watchdog(policy.stallAfterMs || 2 * longest + 10_000, () => this.inFlight, () => this.gate.isDown, deps.logger);
  }

  get instanceId(): string {
    return this.instance.id;
  }

  async start(): Promise<void> {
    await this.instance.register();
    await this.deps.budgets?.ready();
    for (const consumer of this.consumers) await consumer.start();
    this.watchdogTimer = setInterval(() => this.watchdog.check(), 5000);
    this.watchdogTimer.unref();
  }

  /** Stops taking messages, waits for the ones in flight to be recorded and settled, marks the instance stopped. */
  async stop(): Promise<void> {
    clearInterval(this.watchdogTimer);
    await Promise.all(this.consumers.map((c) => c.stop()));
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
      consuming: this.consumers.every((c) => !c.isPaused),
      held_for: this.consumers[0]!.heldFor,
      in_flight: this.inFlight,
      outcomes_waiting_for_postgres: this.gate.held,
      breakers: Object.fromEntries([...this.breakers].map(([name, b]) => [name, b.state])),
      rate_budgets: Object.fromEntries([...this.budgets.values()].map((b) => [b.key, `${b.perSecond}/s`])),
      providers: Object.fromEntries([...this.routes].map(([channel, route]) => [channel, route.map((h) => h.provider)])),
    };
  }

  private watchBreaker(breaker: ProviderBreaker): void {
    const log = this.deps.logger.child({ provider: breaker.provider });
    breaker.on("open", () => {
      log.warn("circuit breaker opened", { queue: this.policy.queue });
      this.deps.metrics?.breakerState(breaker.provider, "open");
      this.holdForBreakers();
    });
    breaker.on("half_open", () => {
      log.info("circuit breaker half-open; trying one message");
      this.deps.metrics?.breakerState(breaker.provider, "half_open");
      this.holdForBreakers();
    });
    breaker.on("closed", () => {
      log.info("circuit breaker closed");
      this.deps.metrics?.breakerState(breaker.provider, "closed");
      this.holdForBreakers();
    });
  }

  /**
   * The queue is held while some channel of it has every provider's breaker open: its messages
   * wait in the queue, unretried. A channel with one provider still up keeps flowing (failover).
   */
  private holdForBreakers(): void {
    for (const [channel, route] of this.routes) {
      const reason = `every ${channel} provider down`;
      if (route.every((h) => this.breakers.get(h.provider)!.state === "open")) {
        this.deps.logger.warn("pausing consumption: every provider of a channel is down", { channel, queue: this.policy.queue });
        this.hold(reason);
      } else this.release(reason);
    }
  }

  /**
   * The first provider of the route, from `from` on, whose breaker gives a permit now. With none,
   * and `wait`, it waits for a half-open trial in progress (the next caller after a trial learns
   * its outcome); otherwise none.
   */
  private async pick(route: ChannelHandler[], from: number, wait: boolean): Promise<{ handler: ChannelHandler; permit: BreakerPermit } | undefined> {
    for (const handler of route.slice(from)) {
      const permit = this.breakers.get(handler.provider)!.tryAcquire();
      if (permit) return { handler, permit };
    }
    if (!wait) return undefined;
    const trying = route.slice(from).find((h) => this.breakers.get(h.provider)!.state === "half_open");
    if (!trying) return undefined;
    try {
      return { handler: trying, permit: await this.breakers.get(trying.provider)!.acquire() };
    } catch (error) {
      if (error instanceof BreakerOpenError) return undefined;
      throw error;
    }
  }

  private get inFlight(): number {
    return this.consumers.reduce((sum, c) => sum + c.inFlightCount, 0);
  }

  private hold(reason: string): void {
    for (const consumer of this.consumers) void consumer.hold(reason);
  }

  private release(reason: string): void {
    for (const consumer of this.consumers) void consumer.release(reason);
  }

  private async handle(message: ConsumeMessage, outcomes: Outcomes): Promise<Settlement> {
    this.watchdog.progress();
    try {
      return await this.process(message, outcomes);
    } finally {
      this.watchdog.progress();
    }
  }

  private async process(message: ConsumeMessage, outcomes: Outcomes): Promise<Settlement> {
    const parsed = parseMessage(deliveryMessage, message);
    if (!parsed.ok) return outcomes.unprocessable(message, "unparseable_message", parsed.error);
    const { delivery_id: deliveryId, channel } = parsed.value;
    const route = this.routes.get(channel);
    if (!route) return outcomes.unprocessable(message, "unknown_channel", `this worker has no provider for ${channel}`);
    if (this.inHand.has(deliveryId)) return outcomes.recheckLater(message, channel);
    this.inHand.add(deliveryId);
    const permits: BreakerPermit[] = [];
    try {
      const first = await this.pick(route, 0, true);
      // Every provider's breaker is open: the message waits in the queue (which is held).
      if (!first) return "requeue";
      permits.push(first.permit);
      return await this.attempt(message, outcomes, deliveryId, route, first, permits);
    } catch (error) {
      // PostgreSQL or the broker failed us before the provider was called: nothing happened, so
      // the message goes back (the gate holds the consumer while PostgreSQL is away).
      if (this.gate.failed(error)) return "requeue";
      this.deps.logger.error("delivery step failed; requeueing", { delivery_id: deliveryId, error: String(error) });
      await sleep(1000);
      return "requeue";
    } finally {
      for (const permit of permits) permit.release();
      this.inHand.delete(deliveryId);
    }
  }

  private async attempt(
    message: ConsumeMessage,
    outcomes: Outcomes,
    deliveryId: string,
    route: ChannelHandler[],
    first: { handler: ChannelHandler; permit: BreakerPermit },
    permits: BreakerPermit[],
  ): Promise<Settlement> {
    const channel = first.handler.channel;
    const loaded = await this.repository.load(deliveryId);
    switch (loaded.kind) {
      case "missing":
        return outcomes.unprocessable(message, "unknown_delivery", `no delivery ${deliveryId}`);
      case "finished":
      case "not_due":
        this.deps.metrics?.outcome(channel, "duplicate");
        return "ack";
      case "on_the_wire":
        if (loaded.alive) return outcomes.recheckLater(message, channel);
        if (!this.policy.resendInterrupted.has(channel)) return outcomes.interrupted(message, loaded.delivery);
        this.deps.logger.warn("resending an attempt a dead worker left on the wire", { delivery_id: deliveryId, channel });
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
      const claimed = await this.repository.claim(delivery, first.handler.provider);
      return claimed ? outcomes.failed(message, claimed, caught, log) : "ack";
    }
    if (context === "suppressed") return outcomes.suppressed(delivery, log);

    // The attempt: the first available provider, then (on a retryable failure) the next ones at
    // once, as long as one is available; each call is recorded with its provider.
    let claimed: ClaimedDelivery | undefined;
    for (let pick = first; ; ) {
      const { handler, permit } = pick;
      const breaker = this.breakers.get(handler.provider)!;
      // Higher priority takes the next free connection before lower priority already waiting.
      const release = await this.connections.get(handler.provider)!.acquire(PRIORITY_VALUES[delivery.priority]);
      let error: DeliveryError;
      try {
        await this.budgets.get(handler)?.take();
        claimed ??= await this.repository.claim(delivery, handler.provider);
        if (!claimed) {
          // Another copy of this message claimed it between our read and our claim.
          this.deps.metrics?.outcome(channel, "duplicate");
          return "ack";
        }
        const attempt: SendContext = { ...context, delivery: claimed };
        const started = process.hrtime.bigint();
        try {
          const outcome = await permit.fire(() =>
            withDeadline(
              handler.provider,
              handler.deadlineMs + DEADLINE_GRACE_MS,
              () => handler.send(attempt),
              () => handler.reset?.(),
              (late) => log.warn("the provider call ended after its deadline", { provider: handler.provider, outcome: late }),
            ),
          );
          // The provider is done with it: the next delivery may take the connection while this one is recorded.
          release();
          this.watchdog.progress();
          return await outcomes.sent(claimed, outcome, log, started);
        } catch (caught) {
          if (caught instanceof BreakerOpenError) {
            // Opened between our permit and our call: nothing was sent.
            error = new RetryableDeliveryError("breaker_open", `the ${handler.provider} breaker opened before the call`);
          } else error = asDeliveryError(caught);
        }
      } finally {
        release();
      }
      // A permanent error is the same with every provider (the address is bad everywhere).
      const next = error.retryable ? await this.pick(route, route.indexOf(handler) + 1, false) : undefined;
      if (!next) return outcomes.failed(message, claimed, error, log, breaker.state !== "closed");
      permits.push(next.permit);
      claimed = await outcomes.failover(claimed, error, next.handler.provider, log);
      // Not ours any more (taken over as interrupted): whoever took it decides.
      if (!claimed) return "ack";
      pick = next;
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
