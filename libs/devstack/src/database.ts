import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function maintenanceUrl(databaseUrl: string): { url: string; name: string } {
  const u = new URL(databaseUrl);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ""));
  u.pathname = "/postgres";
  return { url: u.toString(), name };
}

/** Creates the database of DATABASE_URL if it does not exist. */
export async function ensureDatabase(databaseUrl: string, template?: string): Promise<boolean> {
  const { url, name } = maintenanceUrl(databaseUrl);
  return withClient(url, async (client) => {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount) return false;
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}${template ? ` TEMPLATE ${pg.escapeIdentifier(template)}` : ""}`);
    return true;
  });
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const { url, name } = maintenanceUrl(databaseUrl);
  await withClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
}

export function migrationNames(root: string): string[] {
  const dir = path.join(root, "prisma", "migrations");
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** The migrations of prisma/migrations that the database has not applied yet. */
export async function pendingMigrations(databaseUrl: string, root: string): Promise<string[]> {
  const wanted = migrationNames(root);
  const applied = await withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ exists: boolean }>("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists");
    if (!rows[0]?.exists) return [];
    const result = await client.query<{ migration_name: string }>(
      "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
    );
    return result.rows.map((r) => r.migration_name);
  });
  return wanted.filter((m) => !applied.includes(m));
}

/**
 * Applies pending migrations with `prisma migrate deploy` (skipped when there are none: the CLI
 * takes about ten seconds to exit here, see ARCHITECTURE.md).
 */
export async function migrate(databaseUrl: string, root: string, extraEnv: Record<string, string | undefined>): Promise<string[]> {
  const pending = await pendingMigrations(databaseUrl, root);
  if (pending.length === 0) return [];
  const cli = path.join(root, "node_modules", "prisma", "build", "index.js");
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, "migrate", "deploy"], {
      cwd: root,
      env: { ...extraEnv, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed (${code}): ${output.trim().slice(-2000)}`))));
  });
  return pending;
}
