// What every phase works with: the run's options, its own database/vhost/users, the SMTP sink,
// and the platform's processes, started (and restarted with other settings) on demand. Every
// process started here is stopped by `close`, which the run calls in a finally.
import type { ChildProcess } from "node:child_process";
import type { BenchEnvironment } from "./environment";
import type { Options } from "./options";
import { ask, forkReady, freePort, startApp, stop, waitReady } from "./processes";
import { purgeQueue } from "./queue";
import type { RssSampler } from "./rss";

export interface App {
  name: string;
  pid: number | undefined;
  url: string;
  child: ChildProcess;
}

export class Bench {
  private readonly children = new Set<ChildProcess>();
  private readonly stopping = new Set<ChildProcess>();
  private gatewayApp: App | undefined;
  private gatewayEnv = "";
  private workerApps: App[] = [];
  sink!: ChildProcess;
  sinkPort = 0;

  constructor(
    readonly options: Options,
    readonly env: BenchEnvironment,
    readonly rss: RssSampler,
  ) {}

  get sizes() {
    return this.options.sizes;
  }

  log(line: string): void {
    process.stdout.write(`bench: ${line}\n`);
  }

  /** A helper process of the bench (bench/dist/<name>.js), stopped by close(). */
  async fork(name: string, args: string[]): Promise<ChildProcess> {
    const child = await forkReady(name, args);
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  async startSink(): Promise<void> {
    this.sinkPort = await freePort();
    this.sink = await this.fork("smtp-sink", [String(this.sinkPort)]);
    this.rss.watch("SMTP sink", this.sink.pid);
  }

  async resetSink(): Promise<void> {
    await ask(this.sink, "reset");
  }

  private async app(name: string, app: string, portVar: string, extra: Record<string, string>): Promise<App> {
    const port = await freePort();
    const child = startApp(app, { ...this.env.vars, ...extra, [portVar]: String(port) }, this.options.nodeFlags);
    this.children.add(child);
    const last: string[] = [];
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      last.push(...chunk.split("\n").filter(Boolean));
      last.splice(0, Math.max(0, last.length - 20));
    });
    child.once("exit", (code, signal) => {
      // Stopped by the bench: stop() sends SIGTERM; anything else is the process dying on its own.
      if (!this.stopping.has(child)) this.log(`${name} (pid ${child.pid}) exited by itself (${code ?? signal}); its last lines:\n${last.join("\n")}`);
      this.children.delete(child);
    });
    await waitReady(port);
    this.rss.watch(name, child.pid);
    return { name, pid: child.pid, url: `http://127.0.0.1:${port}`, child };
  }

  /** The gateway, started with `extra` settings (restarted when they differ from the running one's). */
  async gateway(extra: Record<string, string> = {}): Promise<App> {
    const key = JSON.stringify(extra);
    if (this.gatewayApp && this.gatewayApp.child.exitCode === null && this.gatewayEnv === key) return this.gatewayApp;
    await this.stopGateway();
    this.gatewayEnv = key;
    this.gatewayApp = await this.app("gateway", "api-gateway", "GATEWAY_PORT", { GATEWAY_PROCESSES: String(this.sizes.gatewayProcesses), ...extra });
    return this.gatewayApp;
  }

  private async stop(child: ChildProcess | undefined): Promise<void> {
    if (child) this.stopping.add(child);
    await stop(child);
  }

  async stopGateway(): Promise<void> {
    await this.stop(this.gatewayApp?.child);
    this.gatewayApp = undefined;
  }

  /** `count` email workers on email.queue, all into the sink (any running ones are stopped first). */
  async workers(count: number, extra: Record<string, string> = {}): Promise<App[]> {
    await this.stopWorkers();
    const smtp = { SMTP_HOST: "127.0.0.1", SMTP_PORT: String(this.sinkPort), SMTP_MAX_CONNECTIONS: String(this.sizes.smtpConnections), ...extra };
    this.workerApps = await Promise.all(
      Array.from({ length: count }, (_, i) => this.app(count === 1 ? "email worker" : `email worker ${i + 1}`, "email-worker", "EMAIL_WORKER_PORT", smtp)),
    );
    return this.workerApps;
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workerApps.map((w) => this.stop(w.child)));
    this.workerApps = [];
  }

  /** Empties email.queue (a phase that accepted sends without a worker left them there). */
  async purgeEmailQueue(): Promise<void> {
    await purgeQueue(this.env.vars.RABBITMQ_URL!, "email.queue").catch(() => undefined);
  }

  /** Stops every process this run started. */
  async close(): Promise<void> {
    await Promise.all([...this.children].map((child) => this.stop(child)));
  }
}
