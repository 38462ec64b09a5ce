import { channelContext, queueOf, type ProviderHooks } from "@herald/channels";
import { loadConfigOrExit, type Config } from "@herald/config";
import type { Channel } from "@herald/db";
import { createHttpApp, listen } from "@herald/http";
import { ConfirmPublisher } from "@herald/messaging";
import { OutboundBudgets } from "@herald/resilience";
import { openRuntime, runMain, type Runtime } from "@herald/runtime";
import { TemplateCatalog } from "@herald/templates";
import { UserDirectory } from "@herald/users";
import { handlersFor } from "./channel-handlers";
import type { ChannelHandler } from "./handler";
import { WorkerMetrics } from "./metrics";
import { DeliveryWorker } from "./pipeline";
import { workerPolicy } from "./policy";

/**
 * A worker on an open runtime: consume `queue` with these handlers. Registers its own stop, so the
 * runtime's shutdown stops consuming before closing connections, and its watchdog among the
 * runtime's readiness checks.
 */
export async function startDeliveryWorker(runtime: Runtime, queue: string, handlers: ChannelHandler[]): Promise<DeliveryWorker> {
  const { service, config, db, redis, amqp, logger, registry, releasers, checks } = runtime;
  const publisher = new ConfirmPublisher(amqp);
  await publisher.start();
  releasers.add("publisher", () => publisher.close());
  const metrics = new WorkerMetrics(registry);
  const budgets = new OutboundBudgets(redis);
  releasers.add("outbound budgets", () => budgets.close());
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
    workerPolicy(config, queue),
    handlers,
  );
  for (const [provider] of worker.breakers) metrics.breakerState(provider, "closed");
  await worker.start();
  releasers.add(`worker ${queue}`, () => worker.stop());
  checks.worker = worker.readiness;
  return worker;
}

/**
 * The worker of these channels (one work queue) on an open runtime, with their providers as the
 * channel definitions make them from the configuration. Refuses to start when none of the
 * channels has a provider (production without credentials: the sandbox is never used there).
 */
export async function startChannelWorker(runtime: Runtime, channels: readonly Channel[], hooks: ProviderHooks = {}): Promise<DeliveryWorker> {
  const queues = new Set(channels.map(queueOf));
  if (queues.size !== 1) throw new Error(`one worker consumes one queue; ${channels.join(", ")} are on ${[...queues].join(", ")}`);
  const context = channelContext(runtime, hooks);
  const handlers = handlersFor(channels, context);
  for (const provider of context.providersToClose()) runtime.releasers.add(`${provider.name} provider`, () => provider.close());
  const unconfigured = channels.filter((c) => !handlers.some((h) => h.channel === c));
  if (unconfigured.length === channels.length) {
    throw new Error(`${channels.join(" and ")} ${channels.length > 1 ? "have" : "has"} no provider configured, and the sandbox is never used in production (see the README's configuration table)`);
  }
  for (const channel of unconfigured) runtime.logger.warn(`${channel} has no provider configured; its messages will be dead-lettered as unknown_channel`);
  return startDeliveryWorker(runtime, [...queues][0]!, handlers);
}

/** A worker process's main: "run these channels", with health and metrics on `port`. */
export function runChannelWorker(service: string, channels: readonly Channel[], port: (config: Config) => number): void {
  runMain(service, async () => {
    const config = loadConfigOrExit();
    const runtime = await openRuntime({ service, config });
    const worker = await startChannelWorker(runtime, channels);
    const app = createHttpApp({ service, logger: runtime.logger, registry: runtime.registry, checks: runtime.checks, healthDetails: () => worker.health() });
    const http = await listen(app, port(config));
    runtime.releasers.add("http", () => http.close());
    runtime.logger.info(`${service} consuming`, { ...worker.health(), port: http.port });
    return runtime.releasers;
  });
}
