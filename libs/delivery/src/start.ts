import { ConfirmPublisher } from "@herald/messaging";
import { OutboundBudgets } from "@herald/resilience";
import type { Runtime } from "@herald/runtime";
import { TemplateCatalog } from "@herald/templates";
import { UserDirectory } from "@herald/users";
import type { ChannelHandler } from "./handler";
import { WorkerMetrics } from "./metrics";
import { DeliveryWorker } from "./worker";

export interface StartWorkerOptions {
  queue: string;
  handlers: ChannelHandler[];
}

/**
 * Everything a worker process runs, from its runtime: "consume this queue with these handlers".
 * Registers its own stop, so the runtime's shutdown stops consuming before closing connections.
 */
export async function startDeliveryWorker(runtime: Runtime, options: StartWorkerOptions): Promise<DeliveryWorker> {
  const { config, db, redis, amqp, logger, registry, releasers } = runtime;
  const publisher = new ConfirmPublisher(amqp);
  await publisher.start();
  releasers.add("publisher", () => publisher.close());
  const metrics = new WorkerMetrics(registry);
  const budgets = new OutboundBudgets(redis);
  releasers.add("outbound budgets", () => budgets.close());
  const worker = new DeliveryWorker(
    {
      pool: db.pool,
      amqp,
      publisher,
      users: new UserDirectory(db, redis, logger),
      templates: new TemplateCatalog(db, redis, logger),
      logger,
      metrics,
      budgets,
    },
    {
      queue: options.queue,
      handlers: options.handlers,
      prefetch: config.worker.prefetch,
      retry: { maxRetries: config.retry.maxAttempts, baseDelayMs: config.retry.baseDelayMs },
      breaker: { failureThreshold: config.breaker.failureThreshold, recoveryTimeoutMs: config.breaker.recoveryTimeoutMs },
      leaseMs: config.worker.leaseMs,
      rates: config.outboundRates,
    },
  );
  for (const [provider] of worker.breakers) metrics.breakerState(provider, "closed");
  await worker.start();
  releasers.add(`worker ${options.queue}`, () => worker.stop());
  return worker;
}
