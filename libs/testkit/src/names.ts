import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { processEnv } from "@herald/config";
import { migrationNames } from "@herald/devstack";

export const ROOT = path.resolve(__dirname, "..", "..", "..");

/** Where the test services are (the local defaults, or TEST_* overrides). */
export function baseUrls() {
  const env = processEnv();
  return {
    databaseUrl: env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
    redisUrl: env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    rabbitmqUrl: env.TEST_RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672",
    managementUrl: env.TEST_RABBITMQ_MANAGEMENT_URL ?? "http://guest:guest@127.0.0.1:15672",
  };
}

/** The migrated template database: its name changes whenever a migration does. */
export function templateDatabaseName(): string {
  const hash = createHash("sha256");
  for (const name of migrationNames(ROOT)) {
    hash.update(name);
    hash.update(fs.readFileSync(path.join(ROOT, "prisma", "migrations", name, "migration.sql")));
  }
  return `herald_test_tpl_${hash.digest("hex").slice(0, 12)}`;
}

/** One id per `npm test` run, set by the global setup; everything a test creates carries it. */
export function runId(): string {
  return processEnv().HERALD_TEST_RUN ?? "local";
}

export function uniqueName(kind: string): string {
  return `herald_t_${runId()}_${kind}_${randomBytes(4).toString("hex")}`;
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
