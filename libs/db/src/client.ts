import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";

export interface Database {
  /** Prisma for everything that is not a hot path. */
  prisma: PrismaClient;
  /**
   * The same connections as `prisma`, for the few hot-path statements that Prisma cannot express
   * as one round trip (multi-row inserts with ON CONFLICT, UPDATE ... RETURNING with joins).
   */
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

export function createDatabase({ url, poolSize, applicationName = "herald" }: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    application_name: applicationName,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (PostgreSQL restart) must not crash the process;
  // the next query gets a fresh connection or a clear error.
  pool.on("error", () => undefined);
  // Likewise for a client that loses its connection while checked out: its query rejects, and the
  // 'error' event it also emits must not become an uncaught exception.
  pool.on("connect", (client) => client.on("error", () => undefined));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/** True when PostgreSQL answered; for readiness checks. */
export async function pingDatabase(db: Database): Promise<void> {
  await db.pool.query("SELECT 1");
}
