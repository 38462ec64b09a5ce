// Configuration of the Prisma CLI (generate, migrate). The CLI runs offline here with the
// JavaScript engine and the pg driver adapter; see ARCHITECTURE.md, "Database".
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

const DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/notifications";
// schema.prisma names env("DATABASE_URL"); the CLI needs it even for generate.
process.env.DATABASE_URL ??= DEFAULT_URL;

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  adapter: () =>
    Promise.resolve( 
    // A short idle timeout lets the CLI exit as soon as it is done (the pool would hold it 10 s).
    new PrismaPg({ connectionString: process.env.DATABASE_URL, idleTimeoutMillis: 50 })),
});
