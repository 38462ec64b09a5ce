import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import amqp, { type ChannelModel } from "amqplib";
import { coalesceWrites } from "./coalesce";

export interface AmqpLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

type SetupHook = (connection: ChannelModel) => Promise<void>;

/**
 * One AMQP connection per process that reconnects on its own (1 s, 2 s, ... up to 10 s apart).
 * Whatever must exist on a connection (topology, the publisher's confirm channel, consumers) is
 * registered as a setup hook and runs again after every reconnect.
 *
 * Written here rather than taken from amqp-connection-manager because we want the opposite of its
 * in-memory publish buffer: while the broker is away, publishing fails at once and the outbox in
 * PostgreSQL keeps the message; and acks must never reach a channel newer than the message.
 */
export class AmqpConnection extends EventEmitter {
  private connection: ChannelModel | undefined;
  private readonly hooks: SetupHook[] = [];
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly logger: AmqpLogger,
    private readonly name = "herald",
  ) {
    super();
  }

  get isConnected(): boolean {
    return this.connection !== undefined;
  }

  /** Starts connecting; resolves once connected the first time, or rejects after `timeoutMs`. */
  async start(timeoutMs = 15_000): Promise<void> {
    this.scheduleConnect(0);
    await this.waitConnected(timeoutMs);
  }

  /** Starts connecting in the background; the process keeps running while the broker is away. */
  startInBackground(): void {
    this.scheduleConnect(0);
  }

  async waitConnected(timeoutMs: number): Promise<void> {
    if (this.connection) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("connected", onConnected);
        reject(new Error(`RabbitMQ not reachable after ${timeoutMs} ms (${redact(this.url)})`));
      }, timeoutMs);
      const onConnected = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once("connected", onConnected);
    });
  }

  /** Registers a hook that runs now (when connected) and after every reconnect. */
  async addSetup(hook: SetupHook): Promise<void> {
    this.hooks.push(hook);
    if (this.connection) await hook(this.connection);
  }

  removeSetup(hook: SetupHook): void {
    const index = this.hooks.indexOf(hook);
    if (index >= 0) this.hooks.splice(index, 1);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.connecting?.catch(() => undefined);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.close().catch(() => undefined);
  }

  private scheduleConnect(delayMs: number): void {
    if (this.closing || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connecting = this.connect().finally(() => (this.connecting = undefined));
    }, delayMs);
  }

  private async connect(): Promise<void> {
    let connection: ChannelModel;
    try {
      connection = await amqp.connect(this.url, { clientProperties: { connection_name: this.name } });
    } catch (error) {
      this.attempt += 1;
      const delay = Math.min(1000 * this.attempt, 10_000);
      if (this.attempt === 1 || this.attempt % 10 === 0) {
        this.logger.warn("RabbitMQ unreachable, retrying", { error: errorMessage(error), retry_in_ms: delay });
      }
      this.scheduleConnect(delay);
      return;
    }
    if (this.closing) {
      await connection.close().catch(() => undefined);
      return;
    }
    coalesceWrites((connection as unknown as { connection: { stream: Socket } }).connection.stream);
    connection.on("error", (error: unknown) => this.logger.warn("RabbitMQ connection error", { error: errorMessage(error) }));
    connection.on("close", () => {
      if (this.connection !== connection) return;
      this.connection = undefined;
      this.emit("disconnected");
      if (!this.closing) {
        this.logger.warn("RabbitMQ connection lost, reconnecting");
        this.scheduleConnect(1000);
      }
    });
    try {
      for (const hook of this.hooks) await hook(connection);
    } catch (error) {
      this.logger.warn("RabbitMQ setup failed, reconnecting", { error: errorMessage(error) });
      await connection.close().catch(() => undefined);
      this.attempt += 1;
      this.scheduleConnect(Math.min(1000 * this.attempt, 10_000));
      return;
    }
    this.attempt = 0;
    this.connection = connection;
    this.logger.info("RabbitMQ connected");
    this.emit("connected");
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
