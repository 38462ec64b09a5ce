import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { Logger } from "@herald/logger";
import type { ProcessSpec } from "./processes";

interface Managed {
  spec: ProcessSpec;
  child: ChildProcess | undefined;
  restarts: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  /** Consecutive readiness answers that said the process is stalled. */
  stalled: number;
}

/** A process whose /health/ready says "stalled" this many times in a row is restarted. */
const STALLED_POLLS = 2;

/**
 * Runs every process, passes their output through, and restarts one that dies (1 s, 2 s, 4 s ...
 * up to 30 s apart; the delay resets after a minute of health). It also polls each process's
 * /health/ready: a worker whose watchdog says it is stalled (messages in hand, no progress) twice
 * in a row is stopped (SIGTERM, SIGKILL after a grace period) and so restarted. A dependency
 * being down is not a reason to restart anything. stop() sends SIGTERM to all and waits for them,
 * SIGKILL after a grace period.
 */
export class Supervisor {
  private readonly managed: Managed[];
  private stopping = false;

  constructor(
    private readonly root: string,
    specs: ProcessSpec[],
    private readonly env: Record<string, string | undefined>,
    private readonly logger: Logger,
  ) {
    this.managed = specs.map((spec) => ({ spec, child: undefined, restarts: 0, startedAt: 0, timer: undefined, stalled: 0 }));
  }

  private watch: NodeJS.Timeout | undefined;

  start(pollMs = 5000): void {
    for (const m of this.managed) this.spawn(m);
    this.watch = setInterval(() => void Promise.all(this.managed.map((m) => this.poll(m))), pollMs);
    this.watch.unref();
  }

  private async poll(m: Managed): Promise<void> {
    const child = m.child;
    if (!child || child.exitCode !== null || this.stopping) return;
    let stalled = false;
    try {
      const response = await fetch(`http://127.0.0.1:${m.spec.port}/health/ready`, { signal: AbortSignal.timeout(3000) });
      const body = (await response.json()) as { data?: { checks?: Record<string, string> } };
      stalled = response.status === 503 && String(body.data?.checks?.worker ?? "").startsWith("stalled");
    } catch {
      // Not answering at all is for the process's own liveness, not this watch.
    }
    m.stalled = stalled ? m.stalled + 1 : 0;
    if (m.stalled < STALLED_POLLS || child !== m.child) return;
    m.stalled = 0;
    this.logger.error(`${m.spec.name} is stalled; restarting it`, { pid: child.pid });
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => clearTimeout(kill));
    child.kill("SIGTERM");
  }

  async stop(graceMs = 20_000): Promise<void> {
    this.stopping = true;
    clearInterval(this.watch);
    const exits = this.managed.map((m) => {
      if (m.timer) clearTimeout(m.timer);
      const child = m.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
        child.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill("SIGTERM");
      });
    });
    await Promise.all(exits);
  }

  private spawn(m: Managed): void {
    const entry = path.join(this.root, "apps", m.spec.app, "dist", "main.js");
    const child = spawn(process.execPath, ["--enable-source-maps", entry], {
      cwd: this.root,
      env: this.env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    m.child = child;
    m.startedAt = Date.now();
    child.on("exit", (code, signal) => {
      if (this.stopping) return;
      if (Date.now() - m.startedAt > 60_000) m.restarts = 0;
      const delay = Math.min(1000 * 2 ** m.restarts, 30_000);
      m.restarts += 1;
      this.logger.warn(`${m.spec.name} exited; restarting`, { code, signal, restart_in_ms: delay });
      // Ctrl-C reaches the children too: by the time the delay is over we know whether we are stopping.
      m.timer = setTimeout(() => {
        if (!this.stopping) this.spawn(m);
      }, delay);
    });
  }
}
