import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { workQueues } from "@herald/channels";
import { loadConfig, ConfigError, processEnv, type Config } from "@herald/config";
import { ensureDatabase, ensureManagementPlugin, ensureServices, migrate } from "@herald/devstack";
import { createLogger } from "@herald/logger";
import { AmqpConnection, declareTopology } from "@herald/messaging";
import { topologyDelays } from "@herald/runtime";
import { processesFor } from "./processes";
import { seed } from "./seed";
import { Supervisor } from "./supervisor";

const root = path.resolve(__dirname, "..", "..", "..");
const logger = createLogger({ service: "launcher" });

/** The dev API key: made once and kept in .local/ so that it survives restarts. */
function devApiKey(): string {
  const file = path.join(root, ".local", "dev-api-key");
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const key = `dev_${randomBytes(16).toString("hex")}`;
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

async function declare(config: Config): Promise<void> {
  const amqp = new AmqpConnection(config.rabbitmq.url, logger, "launcher");
  await amqp.addSetup(async (connection) => {
    const channel = await connection.createChannel();
    await declareTopology(channel, workQueues(), topologyDelays(config), config.rabbitmq.queueType);
    await channel.close();
  });
  await amqp.start(60_000);
  await amqp.close();
}

async function waitReady(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

function banner(config: Config, apiKey: string, names: string[]): string {
  const gw = `http://localhost:${config.ports.gateway}`;
  const lines = [
    "",
    "  Herald is running.",
    "",
    `  API gateway        ${gw}   (processes: ${names.join(", ")})`,
    `  API key            ${apiKey}`,
    `  RabbitMQ UI        http://localhost:15672   (guest / guest)`,
    config.smtp.host ? `  Email              SMTP ${config.smtp.host}:${config.smtp.port}` : `  Dev inbox          ${gw}/sandbox/messages?channel=email   (SMTP on :${config.ports.devSmtp})`,
    `  Sandbox            ${gw}/sandbox/messages?channel=push|sms|whatsapp   (channels without credentials)`,
    `  API reference      ${gw}/docs`,
    "",
    "  Send the welcome email to Ada:",
    `    curl -s -X POST ${gw}/notifications/send -H 'X-API-Key: ${apiKey}' -H 'Content-Type: application/json' \\`,
    `      -d '{"user_id":"ada","channel":"email","template_id":"welcome_email","variables":{"name":"Ada"}}'`,
    `    curl -s ${gw}/sandbox/messages?channel=email -H 'X-API-Key: ${apiKey}'`,
    "",
    "  Ctrl-C stops everything.",
    "",
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const env = { ...processEnv() };
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (!env.API_KEYS) {
    env.API_KEYS = devApiKey();
    config = loadConfig(env);
  }
  const apiKey = config.apiKeys[0]!;

  logger.info("checking PostgreSQL, Redis and RabbitMQ");
  await ensureServices({ databaseUrl: config.database.url, redisUrl: config.redis.url, rabbitmqUrl: config.rabbitmq.url }, logger);
  if (await ensureDatabase(config.database.url)) logger.info("database created");
  const applied = await migrate(config.database.url, root, env);
  if (applied.length > 0) logger.info("migrations applied", { migrations: applied });
  if (!(await ensureManagementPlugin(config.rabbitmq.managementUrl, logger))) logger.warn("RabbitMQ management UI is not available");
  await declare(config);
  await seed(config);
  if (process.argv.includes("--setup-only")) {
    logger.info("setup done: database migrated, topology declared, seed data in place");
    return;
  }

  const specs = processesFor(config);
  const supervisor = new Supervisor(root, specs, env, logger);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("stopping all processes", { signal });
    await supervisor.stop();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  supervisor.start();

  const ready = await Promise.all(specs.map((s) => waitReady(s.port, 60_000)));
  const late = specs.filter((_, i) => !ready[i]).map((s) => s.name);
  if (late.length > 0) logger.warn("some processes are not ready yet", { processes: late });
  process.stdout.write(`${banner(config, apiKey, specs.map((s) => s.name))}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
