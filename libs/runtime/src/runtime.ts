import { workQueues } from "@herald/channels";
import type { Config } from "@herald/config";
import { createLogger, type Logger } from "@herald/logger";
import { createDatabase, pingDatabase, type Database } from "@herald/db";
import { createRedis, pingRedis, waitForRedis, type Redis } from "@herald/cache";
import { AmqpConnection, declareTopology } from "@herald/messaging";
import { createRegistry, type HealthCheck, type Registry } from "@herald/http";
import { topologyDelays } from "./delays";
import { metricsSource } from "./cluster";
import { Releasers } from "./releasers";

export interface Runtime {
  service: string;
  config: Config;
  logger: Logger;
  db: Database;
  redis: Redis;
  amqp: AmqpConnection;
  registry: Registry;
  /** What /metrics serves: this process's registry, or the whole cluster's (runClustered). */
  metrics: () => Promise<string>;
  releasers: Releasers;
  /** postgres, redis, rabbitmq: for /health/ready. */
  checks: Record<string, HealthCheck>;
}

export interface RuntimeOptions {
  service: string;
  config: Config;
  logger?: Logger;
  /** Database connections for this process (the gateway wants more than a worker). */
  poolSize?: number;
  /**
   * Wait for RabbitMQ before returning. Workers do (they have nothing to do without it); the
   * gateway does not (it accepts into the outbox while the broker is away).
   */
  waitForBroker?: boolean;
}

/**
 * Opens what every process needs, in order (PostgreSQL, Redis, RabbitMQ with the topology), and
 * registers each close so that shutdown closes them in reverse.
 */
export async function openRuntime({ service, config, logger, poolSize, waitForBroker = true }: RuntimeOptions): Promise<Runtime> {
  const log = logger ?? createLogger({ service, level: config.logLevel });
  const releasers = new Releasers(log);

  const db = createDatabase({ url: config.database.url, poolSize: poolSize ?? config.database.poolSize, applicationName: service });
  releasers.add("postgres", () => db.close());
  await pingDatabase(db);

  const redis = createRedis(config.redis);
  releasers.add("redis", async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  await waitForRedis(redis).catch((error: unknown) => log.warn("Redis not ready at start; continuing without cache", { error: String(error) }));

  const amqp = new AmqpConnection(config.rabbitmq.url, log, service);
  const delays = topologyDelays(config);
  await amqp.addSetup(async (connection) => {
    const channel = await connection.createChannel();
    try {
      await declareTopology(channel, workQueues(), delays, config.rabbitmq.queueType);
    } finally {
      await channel.close().catch(() => undefined);
    }
  });
  releasers.add("rabbitmq", () => amqp.close());
  if (waitForBroker) await amqp.start();
  else amqp.startInBackground();

  const registry = createRegistry(service);
  const checks: Record<string, HealthCheck> = {
    postgres: () => pingDatabase(db),
    redis: () => pingRedis(redis),
    rabbitmq: () => (amqp.isConnected ? Promise.resolve() : Promise.reject(new Error("not connected"))),
  };
  return { service, config, logger: log, db, redis, amqp, registry, metrics: metricsSource(registry), releasers, checks };
}
