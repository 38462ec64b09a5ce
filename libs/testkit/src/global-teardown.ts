import pg from "pg";
import { RabbitAdmin } from "@herald/devstack";
import { baseUrls, runId } from "./names";

/** Removes whatever a test of this run left behind (a test that crashed before its cleanup). */
export default async function globalTeardown(): Promise<void> {
  const urls = baseUrls();
  const prefix = `herald_t_${runId()}_`;
  const client = new pg.Client({ connectionString: urls.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${prefix}%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
  const admin = new RabbitAdmin(urls.managementUrl);
  for (const vhost of await admin.listVhosts()) if (vhost.startsWith(prefix)) await admin.deleteVhost(vhost);
}
