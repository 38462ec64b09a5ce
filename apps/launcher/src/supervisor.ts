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
}

/**
 * Runs every process, passes their output through, and restarts one that dies (1 s, 2 s, 4 s ...
 * up to 30 s apart; the delay resets after a minute of health). stop() sends SIGTERM to all and
 * waits for them, SIGKILL after a grace period.
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
    this.managed = specs.map((spec) => ({ spec, child: undefined, restarts: 0, startedAt: 0, timer: undefined }));
  }

  start(): void {
    for (const m of this.managed) this.spawn(m);
  }

  async stop(graceMs = 20_000): Promise<void> {
    this.stopping = true;
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
    const child = spawn(process.execPath, ["--enable-source-maps", ...(m.spec.nodeFlags ?? []), entry], {
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
