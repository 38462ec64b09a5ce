import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { createRedis, waitForRedis } from "@herald/cache";
import { processEnv } from "@herald/config";
import { dropDatabase, ensureDatabase, migrate, migrationNames, RabbitAdmin } from "@herald/devstack";

export const ROOT = path.resolve(__dirname, "..", "..");

/** Where the shared local services are (the drills make their own database, vhost and key prefix in them). */
export function serviceUrls() {
  const env = processEnv();
  return {
    postgres: env.CHAOS_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    redis: env.CHAOS_REDIS_URL ?? "redis://127.0.0.1:6379",
    rabbitmq: env.CHAOS_RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672",
    management: env.CHAOS_RABBITMQ_MANAGEMENT_URL ?? "http://guest:guest@127.0.0.1:15672",
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function withVhost(url: string, vhost: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(vhost)}`;
  return u.toString();
}

/** The same URL through a local port (a TCP proxy in front of the service). */
export function throughPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

/**
 * The migrated database every drill copies (CREATE DATABASE ... TEMPLATE): migrating takes ~15 s
 * here, copying well under one. Its name changes with the migrations, so it is made once per
 * migration set and left for the next run, as the tests' template is.
 */
export async function ensureTemplate(): Promise<string> {
  const hash = createHash("sha256");
  for (const name of migrationNames(ROOT)) {
    hash.update(name);
    hash.update(fs.readFileSync(path.join(ROOT, "prisma", "migrations", name, "migration.sql")));
  }
  const name = `herald_chaos_tpl_${hash.digest("hex").slice(0, 12)}`;
  const url = withDatabase(serviceUrls().postgres, name);
  await ensureDatabase(url);
  await migrate(url, ROOT, processEnv());
  return name;
}

/** One drill's own database, vhost and Redis key prefix, named `herald_chaos_<run>_<drill>`. */
export interface World {
  name: string;
  databaseUrl: string;
  vhost: string;
  redisPrefix: string;
  /** The harness's own connections to the drill's database (counting; never through a proxy). */
  pool: pg.Pool;
  close(): Promise<void>;
}

export async function createWorld(run: string, drill: string, template: string): Promise<World> {
  const urls = serviceUrls();
  const name = `herald_chaos_${run}_${drill.replace(/[^a-z0-9]/g, "_")}`;
  const databaseUrl = withDatabase(urls.postgres, name);
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl, template);
  const admin = new RabbitAdmin(urls.management);
  await admin.deleteVhost(name);
  await admin.createVhost(name);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: "chaos" });
  // A drill that stops PostgreSQL breaks these connections; the pool makes new ones after.
  pool.on("error", () => undefined);
  return {
    name,
    databaseUrl,
    vhost: name,
    redisPrefix: `${name}:`,
    pool,
    async close() {
      await pool.end().catch(() => undefined);
      await dropDatabase(databaseUrl);
      await admin.deleteVhost(name);
      await deleteRedisKeys(urls.redis, `${name}:`);
    },
  };
}

/** Removes the keys under a prefix (SCAN, never FLUSH: the Redis is shared). */
async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = createRedis({ url: redisUrl, keyPrefix: "" });
  try {
    await waitForRedis(redis);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
