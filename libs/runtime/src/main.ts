import type { Releasers } from "./releasers";

/**
 * A process's main: runs `start`, then waits for SIGTERM/SIGINT and releases everything in reverse
 * order. A failure to start prints one line and exits 1.
 */
export function runMain(service: string, start: () => Promise<Releasers>): void {
  start().then(
    (releasers) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`${JSON.stringify({ level: "info", message: "shutting down", service, signal })}\n`);
        const force = setTimeout(() => process.exit(1), 30_000);
        force.unref();
        void releasers.releaseAll().then(() => process.exit(0));
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    },
    (error: unknown) => {
      process.stderr.write(`${service} failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
