import { randomBytes } from "node:crypto";
import { ensureDatabase, ensureManagementPlugin, ensureServices, migrate } from "@herald/devstack";
import { processEnv } from "@herald/config";
import { ensureChromium, ensureConsoleBuilt } from "./browser";
import { baseUrls, ROOT, templateDatabaseName, withDatabase } from "./names";

const quiet = { info: () => undefined, warn: (m: string, meta?: unknown) => console.warn(m, meta ?? "") };

/**
 * Once per `npm test`: the local services up, the RabbitMQ management API on (tests make a vhost
 * each), and a migrated template database that every test file copies into its own database.
 */
export default async function globalSetup(): Promise<void> {
  const urls = baseUrls();
  const env = processEnv();
  env.HERALD_TEST_RUN = randomBytes(3).toString("hex");
  await ensureServices({ databaseUrl: urls.databaseUrl, redisUrl: urls.redisUrl, rabbitmqUrl: urls.rabbitmqUrl }, quiet);
  if (!(await ensureManagementPlugin(urls.managementUrl, quiet))) {
    throw new Error("The RabbitMQ management API is needed by the tests (one vhost per test) and could not be enabled");
  }
  const template = withDatabase(urls.databaseUrl, templateDatabaseName());
  await ensureDatabase(template);
  await migrate(template, ROOT, env);
  // The console's browser test: Debian's chromium and the console's build.
  ensureChromium();
  ensureConsoleBuilt();
}
