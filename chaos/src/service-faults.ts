import { execFile } from "node:child_process";
import fs from "node:fs";
import amqp from "amqplib";
import { isListening } from "@herald/devstack";
import { TcpProxy } from "@herald/testkit";
import { PORTS } from "./system";

export type ServiceName = "postgres" | "redis" | "rabbitmq";
/** (a) the real service stopped and started again; (b) a TCP proxy in front of it cut and restored. */
export type FaultForm = "real" | "proxy";

export interface Command {
  command: string;
  args: string[];
}

export interface RunResult {
  ok: boolean;
  output: string;
}

/** Runs a command (the real one, or a fake that records what it was asked in the unit tests). */
export type Runner = (command: Command, timeoutMs: number) => Promise<RunResult>;

export const runCommand: Runner = (command, timeoutMs) =>
  new Promise((resolve) => {
    execFile(command.command, command.args, { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ ok: !error, output: `${stdout}${stderr}`.trim() });
    });
  });

/** The PostgreSQL cluster version, as `ls /etc/postgresql` names it (the newest when there are several). */
export function clusterVersion(listing: readonly string[] = fs.existsSync("/etc/postgresql") ? fs.readdirSync("/etc/postgresql") : []): string {
  const version = [...listing].sort((a, b) => Number(a) - Number(b)).at(-1);
  if (!version) throw new Error("no PostgreSQL cluster under /etc/postgresql");
  return version;
}

/** The commands that stop and start each local service, and the one that says it answers (none for RabbitMQ: an AMQP connect). */
export function serviceCommands(service: ServiceName, pgVersion: () => string = clusterVersion): { stop: Command; start: Command; check?: Command } {
  switch (service) {
    case "postgres": {
      const version = pgVersion();
      return {
        stop: { command: "pg_ctlcluster", args: ["--skip-systemctl-redirect", version, "main", "stop", "-m", "fast"] },
        start: { command: "pg_ctlcluster", args: ["--skip-systemctl-redirect", version, "main", "start"] },
        check: { command: "pg_isready", args: ["-h", "127.0.0.1", "-p", "5432"] },
      };
    }
    case "redis":
      return {
        stop: { command: "redis-cli", args: ["-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"] },
        start: { command: "redis-server", args: ["--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no"] },
        check: { command: "redis-cli", args: ["-h", "127.0.0.1", "-p", "6379", "ping"] },
      };
    case "rabbitmq":
      return {
        stop: { command: "rabbitmqctl", args: ["stop"] },
        start: { command: "rabbitmq-server", args: ["-detached"] },
      };
  }
}

/** A service that a drill takes away and gives back. */
export interface ServiceFault {
  service: ServiceName;
  form: FaultForm;
  /** Where the system under drill connects for this service (the proxy's port in form (b)). */
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** True when the service answers (pg_isready, redis-cli ping, an AMQP connect; or the proxy listens). */
  answers(): Promise<boolean>;
  /** Stops anything the fault itself runs (the proxy). */
  close(): Promise<void>;
}

const DEFAULT_PORTS: Record<ServiceName, number> = { postgres: 5432, redis: 6379, rabbitmq: 5672 };

async function amqpAnswers(url: string): Promise<boolean> {
  try {
    const connection = await amqp.connect(url, { timeout: 5000 });
    connection.on("error", () => undefined);
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Form (a): the real local service, stopped with its own tool and started again. NEVER on a
 * machine where other people's tests use the same services (chaos runs it only with
 * --services=real).
 */
export function realFault(
  service: ServiceName,
  { runner = runCommand, pgVersion = clusterVersion, amqpConnect = amqpAnswers, rabbitmqUrl = "amqp://guest:guest@127.0.0.1:5672" } = {},
): ServiceFault {
  const commands = serviceCommands(service, pgVersion);
  return {
    service,
    form: "real",
    port: DEFAULT_PORTS[service],
    async cut() {
      const result = await runner(commands.stop, 120_000);
      if (!result.ok) throw new Error(`${commands.stop.command} ${commands.stop.args.join(" ")} failed: ${result.output.slice(0, 500)}`);
    },
    async restore() {
      // Started again even if it was never stopped (the start of a running service fails harmlessly).
      await runner(commands.start, 120_000);
    },
    async answers() {
      if (!commands.check) return amqpConnect(rabbitmqUrl);
      const result = await runner(commands.check, 10_000);
      return result.ok && (service !== "redis" || result.output.includes("PONG"));
    },
    close: () => Promise.resolve(),
  };
}

/** Form (b): a TCP proxy (libs/testkit) in front of the shared service; the system connects through it. */
export function proxyFault(service: ServiceName): ServiceFault {
  const proxy = new TcpProxy("127.0.0.1", DEFAULT_PORTS[service]);
  proxy.port = PORTS.proxy[service];
  let started = false;
  return {
    service,
    form: "proxy",
    port: PORTS.proxy[service],
    async cut() {
      await proxy.stop();
    },
    async restore() {
      if (!started || !(await isListening("127.0.0.1", proxy.port))) await proxy.start();
      started = true;
    },
    answers: () => isListening("127.0.0.1", proxy.port),
    close: () => proxy.stop(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the service answers; throws (loudly: a shared service may be down) when it does not in time. */
export async function waitUntilAnswers(fault: ServiceFault, timeoutMs: number, intervalMs = 1000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await fault.answers()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${fault.service} does not answer ${Math.round(timeoutMs / 1000)} s after it was restored (${fault.form}): bring it back by hand`);
    }
    await sleep(intervalMs);
  }
}

/**
 * The outage: cut, hold for `holdMs` (or until `during` is done), then, in a finally whatever
 * happened, restore and wait until the service answers again. Returns when it answered, as ms
 * since the epoch (the end of the fault).
 */
export async function outage(fault: ServiceFault, hold: () => Promise<void>, { answerTimeoutMs = 180_000, intervalMs = 1000 } = {}): Promise<number> {
  try {
    await fault.cut();
    await hold();
  } finally {
    // A start that fails is not the end of it: the check below decides, and says so loudly.
    await fault.restore().catch((error: unknown) => process.stderr.write(`chaos: restoring ${fault.service} failed: ${String(error)}\n`));
    await waitUntilAnswers(fault, answerTimeoutMs, intervalMs);
  }
  return Date.now();
}
