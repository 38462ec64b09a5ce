import amqp, { type ChannelModel } from "amqplib";
import { loadConfig, processEnv, type Config } from "@herald/config";
import { createRedis, type Redis } from "@herald/cache";
import { createDatabase, type Database } from "@herald/db";
import { dropDatabase, ensureDatabase, RabbitAdmin } from "@herald/devstack";
import { createLogger } from "@herald/logger";
import { openRuntime, type Runtime, type RuntimeOptions } from "@herald/runtime";
import { baseUrls, templateDatabaseName, uniqueName, withDatabase, withVhost } from "./names";

export const TEST_API_KEY = "test-key-0123456789";

/**
 * One test file's own world: a database copied from the migrated template, a RabbitMQ vhost, a
 * Redis key prefix. Tests run in parallel without seeing each other and leave nothing behind.
 */
export interface TestEnv {
  config: Config;
  /** The environment variables of this world, for a child process. */
  vars: Record<string, string>;
  /** A connection for the test's own assertions. */
  db: Database;
  redis: Redis;
  /** A plain amqplib connection to the vhost, for inspecting queues. */
  broker: ChannelModel;
  /** The config with more environment overrides (same database, vhost and prefix). */
  configWith(overrides: Record<string, string>): Config;
  /** Opens a process runtime on this world; closed by cleanup() unless closed before. */
  openRuntime(service: string, overrides?: Record<string, string>, options?: Partial<RuntimeOptions>): Promise<Runtime>;
  queueDepth(queue: string): Promise<number>;
  cleanup(): Promise<void>;
}

async function createDatabaseFromTemplate(url: string, template: string): Promise<void> {
  // CREATE DATABASE ... TEMPLATE fails while another session copies the same template: retry.
  for (let attempt = 0; ; attempt += 1) {
    try {
      await ensureDatabase(url, template);
      return;
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
}

export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  const urls = baseUrls();
  const name = uniqueName("env");
  const databaseUrl = withDatabase(urls.databaseUrl, name);
  await createDatabaseFromTemplate(databaseUrl, templateDatabaseName());
  const admin = new RabbitAdmin(urls.managementUrl);
  await admin.createVhost(name);
  const rabbitmqUrl = withVhost(urls.rabbitmqUrl, name);
  const prefix = `${name}:`;
  const base: Record<string, string> = {
    NODE_ENV: "test",
    LOG_LEVEL: processEnv().TEST_LOG_LEVEL ?? "error",
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: "5",
    REDIS_URL: urls.redisUrl,
    REDIS_KEY_PREFIX: prefix,
    RABBITMQ_URL: rabbitmqUrl,
    RABBITMQ_MANAGEMENT_URL: urls.managementUrl,
    API_KEYS: TEST_API_KEY,
    OUTBOX_RELAY_INTERVAL: "200ms",
    OUTBOX_RELAY_AFTER: "1s",
    ...overrides,
  };
  const configWith = (more: Record<string, string>) => loadConfig({ ...base, ...more });
  const config = configWith({});
  const db = createDatabase({ url: databaseUrl, poolSize: 3, applicationName: "test" });
  const redis = createRedis({ url: urls.redisUrl, keyPrefix: prefix });
  const broker = await amqp.connect(rabbitmqUrl);
  broker.on("error", () => undefined);
  const runtimes: Runtime[] = [];

  return {
    config,
    vars: base,
    db,
    redis,
    broker,
    configWith,
    async openRuntime(service, more = {}, options = {}) {
      const runtimeConfig = configWith(more);
      const runtime = await openRuntime({
        service,
        config: runtimeConfig,
        logger: createLogger({ service, level: runtimeConfig.logLevel }),
        poolSize: 5,
        ...options,
      });
      runtimes.push(runtime);
      return runtime;
    },
    async queueDepth(queue) {
      const channel = await broker.createChannel();
      try {
        return (await channel.checkQueue(queue)).messageCount;
      } finally {
        await channel.close().catch(() => undefined);
      }
    },
    async cleanup() {
      for (const runtime of runtimes.reverse()) await runtime.releasers.releaseAll();
      await broker.close().catch(() => undefined);
      const keys = await redis.keys(`${prefix}*`).catch(() => [] as string[]);
      // KEYS returns full names; the client would prefix them again.
      if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
      redis.disconnect();
      await db.close();
      await dropDatabase(databaseUrl);
      await admin.deleteVhost(name);
    },
  };
}
