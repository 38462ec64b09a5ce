import { execFileSync } from "node:child_process";
import { escapeIdentifier, type Pool } from "pg";
import os from "node:os";
import { processEnv } from "@herald/config";
import { createRedis, waitForRedis } from "@herald/cache";
import { createDatabase, type Database } from "@herald/db";
import { dropDatabase, ensureDatabase, ensureManagementPlugin, ensureServices, migrate, RabbitAdmin } from "@herald/devstack";
import { createLogger } from "@herald/logger";
import { TemplateCatalog, TemplateService, WELCOME_EMAIL } from "@herald/templates";
import { UserDirectory, UserService } from "@herald/users";
import { ROOT } from "./processes";

export const API_KEY = "bench-key-0123456789abcdef";

/** The benchmark's own world (database, vhost, key prefix), so it never touches `npm start`'s data. */
export interface BenchEnvironment {
  /** The database's, vhost's and key prefix's name: herald_bench_<pid>, so two runs never meet. */
  name: string;
  vars: Record<string, string>;
  db: Database;
  userIds: string[];
  close(): Promise<void>;
}

/** Drops this run's database, vhost and Redis keys (also when `prepare` has not finished). */
export async function dropEnvironment(name: string): Promise<void> {
  const env = processEnv();
  const base = new URL(env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/notifications");
  base.pathname = `/${name}`;
  await dropDatabase(base.toString()).catch(() => undefined);
  await new RabbitAdmin(env.RABBITMQ_MANAGEMENT_URL ?? "http://guest:guest@127.0.0.1:15672").deleteVhost(name).catch(() => undefined);
  const redis = createRedis({ url: env.REDIS_URL ?? "redis://127.0.0.1:6379", keyPrefix: "" });
  await waitForRedis(redis);
  const left = await redis.keys(`${name}:*`);
  if (left.length > 0) await redis.del(...left);
  redis.disconnect();
}

export async function prepare(users: number, NAME: string): Promise<BenchEnvironment> {
  const env = processEnv();
  const base = new URL(env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/notifications");
  base.pathname = `/${NAME}`;
  const databaseUrl = base.toString();
  const rabbit = new URL(env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672");
  const managementUrl = env.RABBITMQ_MANAGEMENT_URL ?? "http://guest:guest@127.0.0.1:15672";
  const logger = createLogger({ service: "bench", level: "warn" });
  await ensureServices({ databaseUrl, redisUrl: env.REDIS_URL ?? "redis://127.0.0.1:6379", rabbitmqUrl: rabbit.toString() }, logger);
  await ensureManagementPlugin(managementUrl, logger);
  const admin = new RabbitAdmin(managementUrl);
  // The name is this run's own (herald_bench_<pid>): nothing of another run is dropped.
  await ensureDatabase(databaseUrl);
  try {
    await migrate(databaseUrl, ROOT, env);
    await admin.createVhost(NAME);
  } catch (error) {
    await dropDatabase(databaseUrl);
    await admin.deleteVhost(NAME).catch(() => undefined);
    throw error;
  }
  rabbit.pathname = `/${NAME}`;

  const vars: Record<string, string> = {
    PATH: env.PATH ?? "",
    NODE_ENV: "development",
    LOG_LEVEL: "warn",
    API_KEYS: API_KEY,
    DATABASE_URL: databaseUrl,
    REDIS_URL: env.REDIS_URL ?? "redis://127.0.0.1:6379",
    REDIS_KEY_PREFIX: `${NAME}:`,
    RABBITMQ_URL: rabbit.toString(),
    RABBITMQ_MANAGEMENT_URL: managementUrl,
    // Every request goes to another user, but --quick has few of them: the limit must never bite.
    RATE_LIMIT_PER_USER: "1000000",
    // Seeded rows are up to 90 days old: the retention job would delete them under the phases that
    // measure a full table (and deadlock with the seeding). Only the retention phase turns it on.
    RETENTION_DAYS: "0",
  };
  // More connections than users created at once: a create's transaction holds one while it may
  // ask for another (with 5, twenty creates at once could wait on each other for ever).
  const db = createDatabase({ url: databaseUrl, poolSize: 30, applicationName: "bench" });
  const analyzer = await standInForAutovacuum(db.pool);
  const close = async () => {
    analyzer?.stop();
    await db.close().catch(() => undefined);
    await dropEnvironment(NAME);
  };
  try {
    const redis = createRedis({ url: vars.REDIS_URL!, keyPrefix: vars.REDIS_KEY_PREFIX! });
    await waitForRedis(redis);
    await new TemplateService(db, new TemplateCatalog(db, redis)).create(WELCOME_EMAIL);
    const service = new UserService(db, new UserDirectory(db, redis));
    const userIds: string[] = [];
    // In groups of 20 (in order): one at a time, 2,000 users took a minute of the run.
    for (let first = 0; first < users; first += 20) {
      const group = Array.from({ length: Math.min(20, users - first) }, (_, i) => first + i);
      const created = await Promise.all(group.map((i) => service.create({ email: `bench${i}@example.com`, name: `Bench ${i}` })));
      userIds.push(...created.map((u) => u.id));
    }
    const keys = await redis.keys(`${NAME}:*`);
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(NAME.length + 1)));
    redis.disconnect();
    return { name: NAME, vars, db, userIds, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", timeout: 20_000 }).trim().split("\n")[0] ?? "?";
  } catch {
    return "not found";
  }
}

/** What the figures depend on. */
export function machineNotes(): Record<string, string> {
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model ?? "?"} x ${cpus.length}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgresql: version("psql", ["--version"]),
    redis: version("redis-server", ["--version"]),
    rabbitmq: version("rabbitmqctl", ["version"]),
  };
}

/**
 * Where PostgreSQL runs with autovacuum off (as on the machine the bench was written on), no table
 * is ever analyzed, and a plan made while a table was empty (after a phase's TRUNCATE, say) stays
 * for the life of a prepared statement: a claim became a sequential scan of 100,000 deliveries and
 * the burst ran at a fifth of its speed. This does autovacuum's analyze part, on its threshold (50
 * rows plus 10% changed), every 2 s; its CPU counts as PostgreSQL's, as autovacuum's would.
 */
async function standInForAutovacuum(pool: Pool): Promise<{ stop: () => void } | undefined> {
  const { rows } = await pool.query<{ autovacuum: string }>("SHOW autovacuum");
  if (rows[0]?.autovacuum === "on") return undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      const due = await pool.query<{ relname: string }>(
        `SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
          WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)`,
      );
      for (const { relname } of due.rows) await pool.query(`ANALYZE ${escapeIdentifier(relname)}`);
    })()
      .catch(() => undefined)
      .finally(() => (running = false));
  }, 2000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

