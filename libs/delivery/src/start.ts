import { ConfirmPublisher } from "@herald/messaging";
import { publishMetrics } from "@herald/monitoring";
import { OutboundBudgets } from "@herald/resilience";
import type { Runtime } from "@herald/runtime";
import { TemplateCatalog } from "@herald/templates";
import { UserDirectory } from "@herald/users";
import type { ChannelHandler } from "./handler";
import { WorkerMetrics } from "./metrics";
import { DeliveryWorker } from "./pipeline";
import { workerPolicy } from "./policy";

export interface StartWorkerOptions {
  queue: string;
  handlers: ChannelHandler[];
  /** This worker's breakers open after this many consecutive failures (default: the config's). */
  breakerFailureThreshold?: number;
}

/**
 * Everything a worker process runs, from its runtime: "consume this queue with these handlers".
 * Registers its own stop, so the runtime's shutdown stops consuming before closing connections,
 * and its watchdog among the runtime's readiness checks.
 */
export async function startDeliveryWorker(runtime: Runtime, options: StartWorkerOptions): Promise<DeliveryWorker> {
  const { service, config, db, redis, amqp, logger, registry, releasers, checks } = runtime;
  const publisher = new ConfirmPublisher(amqp, undefined, publishMetrics(registry));
  await publisher.start();
  releasers.add("publisher", () => publisher.close());
  const metrics = new WorkerMetrics(registry);
  const budgets = new OutboundBudgets(redis);
  releasers.add("outbound budgets", () => budgets.close());
  const policy = workerPolicy(config, options.queue, { breakerFailureThreshold: options.breakerFailureThreshold });
  const worker = new DeliveryWorker(
    {
      service,
      pool: db.pool,
      amqp,
      publisher,
      users: new UserDirectory(db, redis, logger),
      templates: new TemplateCatalog(db, redis, logger),
      logger,
      metrics,
      budgets,
    },
    policy,
    options.handlers,
  );
  for (const [provider] of worker.breakers) metrics.breakerState(provider, "closed");
  await worker.start();
  releasers.add(`worker ${options.queue}`, () => worker.stop());
  checks.worker = worker.readiness;
  return worker;
}
