import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { hostPort, isListening, isLocalHost, waitForPort } from "./ports";

export interface StackLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

export interface StackUrls {
  databaseUrl: string;
  redisUrl: string;
  rabbitmqUrl: string;
}

function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 120_000 });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

interface Service {
  name: string;
  host: string;
  port: number;
  /** Seconds to wait after starting it. */
  waitS: number;
  binary: string;
  start(): { ok: boolean; output: string };
}

function services({ databaseUrl, redisUrl, rabbitmqUrl }: StackUrls): Service[] {
  const pg = hostPort(databaseUrl, 5432);
  const redis = hostPort(redisUrl, 6379);
  const rabbit = hostPort(rabbitmqUrl, 5672);
  return [
    {
      name: "PostgreSQL",
      ...pg,
      waitS: 30,
      binary: "pg_ctlcluster",
      start: () => {
        const versions = fs.existsSync("/etc/postgresql") ? fs.readdirSync("/etc/postgresql") : [];
        const version = versions.sort().at(-1);
        if (!version) return { ok: false, output: "no cluster under /etc/postgresql" };
        return run("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"]);
      },
    },
    {
      name: "Redis",
      ...redis,
      waitS: 15,
      binary: "redis-server",
      start: () =>
        run("redis-server", ["--daemonize", "yes", "--bind", "127.0.0.1", "--port", String(redis.port), "--save", "", "--appendonly", "no"]),
    },
    {
      name: "RabbitMQ",
      ...rabbit,
      waitS: 90,
      binary: "rabbitmq-server",
      start: () => run("rabbitmq-server", ["-detached"]),
    },
  ];
}

/**
 * Starts whichever of the local PostgreSQL, Redis and RabbitMQ is installed but not running, and
 * waits until each accepts connections. Idempotent: a running service is left alone. A remote
 * service (not on this machine) is only checked.
 */
export async function ensureServices(urls: StackUrls, logger: StackLogger): Promise<void> {
  const problems: string[] = [];
  await Promise.all(
    services(urls).map(async (service) => {
      if (await isListening(service.host, service.port)) return;
      if (!isLocalHost(service.host)) {
        problems.push(`${service.name} at ${service.host}:${service.port} is not reachable`);
        return;
      }
      if (!hasCommand(service.binary)) {
        problems.push(`${service.name} is not running on ${service.host}:${service.port} and ${service.binary} is not installed`);
        return;
      }
      logger.info(`starting ${service.name}`);
      const started = service.start();
      if (!started.ok) logger.warn(`${service.name} start command failed`, { output: started.output.slice(0, 500) });
      if (!(await waitForPort(service.host, service.port, service.waitS * 1000))) {
        problems.push(`${service.name} did not come up on ${service.host}:${service.port}`);
      } else {
        logger.info(`${service.name} is up`);
      }
    }),
  );
  if (problems.length > 0) throw new Error(problems.join("; "));
}
