import type { Logger } from "@herald/logger";

type Release = () => Promise<void> | void;

/**
 * Cleanups registered as things are opened, run last-opened-first when the process stops
 * (graphile-worker calls these releasers). Each gets a time limit so that one stuck close cannot
 * keep the process alive.
 */
export class Releasers {
  private readonly stack: { name: string; release: Release }[] = [];
  private releasing: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs = 15_000,
  ) {}

  add(name: string, release: Release): void {
    this.stack.push({ name, release });
  }

  releaseAll(): Promise<void> {
    this.releasing ??= this.run();
    return this.releasing;
  }

  private async run(): Promise<void> {
    while (this.stack.length > 0) {
      const { name, release } = this.stack.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(release),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs))),
        ]);
        this.logger.debug("released", { resource: name });
      } catch (error) {
        this.logger.warn("release failed", { resource: name, error: error instanceof Error ? error.message : String(error) });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
