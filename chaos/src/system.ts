import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { processEnv } from "@herald/config";
import { alive, processGroup, type ProcessInfo } from "./proc";
import { ROOT } from "./world";

export const API_KEY = "chaos-key-0123456789abcdef";

/** The drills' ports (their own base, so a drill never meets `npm start` or another helper's system). */
export const PORTS = {
  gateway: 29000,
  emailWorker: 29001,
  pushWorker: 29002,
  userService: 29003,
  templateService: 29004,
  smsWorker: 29005,
  webhookWorker: 29006,
  devInbox: 29007,
  devSmtp: 29025,
  /** The drill SMTP sink and the webhook receiver. */
  sink: 29100,
  webhook: 29101,
  /** TCP proxies in front of the shared services (form (b) of a service fault). */
  proxy: { postgres: 29110, redis: 29111, rabbitmq: 29112 },
} as const;

/** The processes whose /health/ready says the system is up (SMTP_HOST is set: no dev inbox). */
export const READY_PORTS: Record<string, number> = {
  "api-gateway": PORTS.gateway,
  "email-worker": PORTS.emailWorker,
  "push-worker": PORTS.pushWorker,
  "user-service": PORTS.userService,
  "template-service": PORTS.templateService,
  "sms-worker": PORTS.smsWorker,
  "webhook-worker": PORTS.webhookWorker,
};

export const GATEWAY = `http://127.0.0.1:${PORTS.gateway}`;

/** Where the system's processes reach the services: straight, or through a drill's proxy. */
export interface ServiceTargets {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  rabbitmqUrl: string;
  managementUrl: string;
}

/** The environment `npm start` gets in a drill: the drill's ports, database, vhost and key prefix, the sink as SMTP. */
export function systemEnv(targets: ServiceTargets, overrides: Record<string, string>): Record<string, string> {
  const env = processEnv();
  return {
    PATH: env.PATH ?? "/usr/bin:/bin",
    HOME: env.HOME ?? "/tmp",
    NODE_ENV: "development",
    LOG_LEVEL: "info",
    API_KEYS: API_KEY,
    DATABASE_URL: targets.databaseUrl,
    REDIS_URL: targets.redisUrl,
    REDIS_KEY_PREFIX: targets.redisPrefix,
    RABBITMQ_URL: targets.rabbitmqUrl,
    RABBITMQ_MANAGEMENT_URL: targets.managementUrl,
    GATEWAY_PORT: String(PORTS.gateway),
    EMAIL_WORKER_PORT: String(PORTS.emailWorker),
    PUSH_WORKER_PORT: String(PORTS.pushWorker),
    USER_SERVICE_PORT: String(PORTS.userService),
    TEMPLATE_SERVICE_PORT: String(PORTS.templateService),
    SMS_WORKER_PORT: String(PORTS.smsWorker),
    WEBHOOK_WORKER_PORT: String(PORTS.webhookWorker),
    DEV_INBOX_PORT: String(PORTS.devInbox),
    DEV_SMTP_PORT: String(PORTS.devSmtp),
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(PORTS.sink),
    WEBHOOK_ALLOW_PRIVATE: "true",
    ...overrides,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}

/** The sockets on a port, as `ss` shows them (for the error when a port is taken). */
function holders(port: number): string {
  try {
    return execFileSync("ss", ["-tanpH", `( sport = :${port} )`], { encoding: "utf8", timeout: 5000 }).trim().split("\n").slice(0, 3).join("; ");
  } catch {
    return "?";
  }
}

/**
 * Waits until every port of the system can be listened on. 29000-29112 lie below Linux's
 * ephemeral range (32768-60999), so no outgoing connection of another process takes one between
 * this check and the listen (inside that range one did, on a busy machine); a server someone
 * left running still can, and this says whose.
 */
export async function waitPortsFree(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const taken: number[] = [];
    for (const port of ports) if (!(await bindable(port))) taken.push(port);
    if (taken.length === 0) return;
    if (Date.now() > deadline) throw new Error(`ports still in use after ${timeoutMs / 1000} s: ${taken.map((p) => `${p} (${holders(p)})`).join(", ")}`);
    await sleep(1000);
  }
}

export async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(3000) })).ok;
  } catch {
    return false;
  }
}

/**
 * The whole system as `npm start` runs it: apps/launcher's main (setup, then its supervisor with
 * the process list of apps/launcher/src/processes.ts), in a process group of its own, every line
 * of every process into the drill's log file. stop() ends exactly that group.
 */
export class System {
  private child: ChildProcess | undefined;
  private exited = false;

  constructor(
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 180_000): Promise<void> {
    await waitPortsFree([...Object.values(READY_PORTS), PORTS.devInbox], 60_000);
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    const out = fs.openSync(this.logFile, "a");
    this.child = spawn(process.execPath, [path.join(ROOT, "apps", "launcher", "dist", "main.js")], {
      cwd: ROOT,
      env: this.env,
      detached: true,
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    this.child.once("exit", () => (this.exited = true));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited) throw new Error(`the launcher exited during start; see ${this.logFile}`);
      const states = await Promise.all(Object.values(READY_PORTS).map((port) => ready(port)));
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) {
        const late = Object.keys(READY_PORTS).filter((_, i) => !states[i]);
        throw new Error(`not ready after ${timeoutMs / 1000} s: ${late.join(", ")}; see ${this.logFile}`);
      }
      await sleep(500);
    }
  }

  /** The live processes of the system (launcher, supervised processes, the gateway's copies). */
  processes(): ProcessInfo[] {
    const pid = this.child?.pid;
    return pid ? processGroup(pid) : [];
  }

  /** The supervised process of one app (the gateway's primary when it runs clustered). */
  processOf(app: string): ProcessInfo | undefined {
    const all = this.processes();
    const launcher = this.child?.pid;
    return all.find((p) => p.ppid === launcher && p.cmdline.includes(`apps/${app}/dist/main.js`));
  }

  /** The gateway's copies under node:cluster (children of its primary). */
  gatewayCopies(): ProcessInfo[] {
    const primary = this.processOf("api-gateway");
    return primary ? this.processes().filter((p) => p.ppid === primary.pid) : [];
  }

  /** SIGKILL one process of this system, by its id. */
  kill(target: ProcessInfo): void {
    if (!this.processes().some((p) => p.pid === target.pid)) throw new Error(`process ${target.pid} is not part of this system`);
    process.kill(target.pid, "SIGKILL");
  }

  /** SIGTERM to the launcher (it stops every process gracefully); after `graceMs`, SIGKILL to the group. */
  async stop(graceMs = 30_000): Promise<void> {
    const pid = this.child?.pid;
    if (!pid) return;
    if (!this.exited) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // gone already
      }
    }
    const deadline = Date.now() + graceMs;
    while (processGroup(pid).length > 0 && Date.now() < deadline) await sleep(250);
    if (processGroup(pid).length > 0) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
      const killed = Date.now() + 10_000;
      while ((processGroup(pid).length > 0 || (!this.exited && alive(pid))) && Date.now() < killed) await sleep(100);
    }
    this.child = undefined;
  }
}
