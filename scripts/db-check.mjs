// Checks that prisma/schema.prisma and prisma/migrations agree: the migrations applied in order
// must give the same database as the SQL Prisma generates from the schema. (prisma migrate diff
// --from-migrations cannot run here: with the pg adapter it fails to read PostgreSQL's 'char'
// columns, see ARCHITECTURE.md.) Compares `pg_dump --schema-only` of two scratch databases.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const base = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/notifications");
const urlOf = (name) => Object.assign(new URL(base), { pathname: `/${name}` }).toString();
const admin = urlOf("postgres");
const psql = (url, args, input) =>
  execFileSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, ...args], { input, encoding: "utf8", env: { ...process.env, PGOPTIONS: "-c client_min_messages=warning" } });
const names = { migrations: `herald_check_m_${process.pid}`, schema: `herald_check_s_${process.pid}` };

function dump(url) {
  return execFileSync("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", "--exclude-table=_prisma_migrations", url], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("--") && !line.startsWith("SET ") && !line.startsWith("SELECT pg_catalog") && !line.startsWith("\\"))
    .join("\n");
}

let exitCode = 0;
try {
  for (const name of Object.values(names)) psql(admin, ["-c", `CREATE DATABASE ${name}`]);
  const dir = path.join(root, "prisma", "migrations");
  for (const migration of fs.readdirSync(dir).filter((d) => fs.statSync(path.join(dir, d)).isDirectory()).sort()) {
    psql(urlOf(names.migrations), ["-f", path.join(dir, migration, "migration.sql")]);
  }
  const generated = execFileSync(
    process.execPath,
    [path.join(root, "node_modules", "prisma", "build", "index.js"), "migrate", "diff", "--from-empty", "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
    { cwd: root, encoding: "utf8", env: { ...process.env, DATABASE_URL: urlOf(names.schema), CHECKPOINT_DISABLE: "1" }, stdio: ["ignore", "pipe", "ignore"] },
  );
  psql(urlOf(names.schema), [], generated);
  // What the schema cannot express (partial indexes), as the migrations create it.
  psql(urlOf(names.schema), ["-f", path.join(root, "prisma", "outside-schema.sql")]);
  const [fromMigrations, fromSchema] = [dump(urlOf(names.migrations)), dump(urlOf(names.schema))];
  if (fromMigrations !== fromSchema) {
    const a = new Set(fromMigrations.split("\n"));
    const b = new Set(fromSchema.split("\n"));
    console.error("prisma/schema.prisma and prisma/migrations disagree: add a migration that makes these lines agree");
    console.error("(prisma/migrations/<NNNN_name>/migration.sql; see ARCHITECTURE.md, Database):");
    for (const line of b) if (!a.has(line)) console.error(`  schema only:     ${line}`);
    for (const line of a) if (!b.has(line)) console.error(`  migrations only: ${line}`);
    exitCode = 1;
  } else {
    console.log("schema and migrations agree");
  }
} finally {
  for (const name of Object.values(names)) psql(admin, ["-c", `DROP DATABASE IF EXISTS ${name}`]);
}
process.exit(exitCode);
