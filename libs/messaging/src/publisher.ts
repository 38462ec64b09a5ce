import type { ChannelModel, ConfirmChannel, Options } from "amqplib";
import type { AmqpConnection } from "./connection";

export class BrokerUnavailableError extends Error {
  constructor(message = "RabbitMQ is not connected") {
    super(message);
    this.name = "BrokerUnavailableError";
  }
}

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  body: unknown;
  headers?: Record<string, unknown>;
  priority?: number;
  messageId?: string;
}

/** Told how many messages were published, confirmed and refused (nacked or unconfirmed): metrics. */
export interface PublishObserver {
  published(count: number): void;
  confirmed(count: number): void;
  refused(count: number): void;
}

/**
 * Publishes persistent JSON messages on one shared confirm channel and resolves each publish when
 * the broker confirms it. While the broker is away it fails at once (the caller's outbox keeps the
 * message); it never buffers in memory.
 */
export class ConfirmPublisher {
  private channel: ConfirmChannel | undefined;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly timeoutMs = 10_000,
    private readonly observer?: PublishObserver,
  ) {}

  async start(): Promise<void> {
    await this.connection.addSetup(this.setup);
  }

  get isReady(): boolean {
    return this.channel !== undefined;
  }

  publish(message: OutgoingMessage): Promise<void> {
    return this.publishAll([message]).then(([result]) => {
      if (result?.status === "rejected") throw result.reason;
    });
  }

  /**
   * Publishes all, then waits for every confirm: one timer and one promise for the whole batch
   * (a promise and a timer per message cost more than the publish itself at a few thousand a second).
   */
  publishAll(messages: OutgoingMessage[]): Promise<PromiseSettledResult<void>[]> {
    const channel = this.channel;
    if (!channel) return Promise.resolve(messages.map(() => ({ status: "rejected", reason: new BrokerUnavailableError() })));
    if (messages.length === 0) return Promise.resolve([]);
    const observer = this.observer;
    observer?.published(messages.length);
    return new Promise((resolve) => {
      const results: (PromiseSettledResult<void> | undefined)[] = messages.map(() => undefined);
      let pending = messages.length;
      const settle = (i: number, result: PromiseSettledResult<void>) => {
        if (results[i] !== undefined) return;
        results[i] = result;
        pending -= 1;
        if (pending === 0) {
          clearTimeout(timer);
          if (observer) {
            const confirmed = results.filter((r) => r?.status === "fulfilled").length;
            observer.confirmed(confirmed);
            if (confirmed < messages.length) observer.refused(messages.length - confirmed);
          }
          resolve(results as PromiseSettledResult<void>[]);
        }
      };
      const timer = setTimeout(() => {
        const reason = new BrokerUnavailableError(`no broker confirm within ${this.timeoutMs} ms`);
        for (let i = 0; i < messages.length; i += 1) settle(i, { status: "rejected", reason });
      }, this.timeoutMs);
      const timestamp = Math.floor(Date.now() / 1000);
      messages.forEach((message, i) => {
        const options: Options.Publish = { persistent: true, contentType: "application/json", headers: message.headers ?? {}, timestamp };
        if (message.priority !== undefined) options.priority = message.priority;
        if (message.messageId !== undefined) options.messageId = message.messageId;
        try {
          channel.publish(message.exchange, message.routingKey, Buffer.from(JSON.stringify(message.body)), options, (error) =>
            settle(i, error ? { status: "rejected", reason: error instanceof Error ? error : new Error(String(error)) } : { status: "fulfilled", value: undefined }),
          );
        } catch (error) {
          settle(i, { status: "rejected", reason: error instanceof Error ? error : new Error(String(error)) });
        }
      });
    });
  }

  async close(): Promise<void> {
    this.connection.removeSetup(this.setup);
    const channel = this.channel;
    this.channel = undefined;
    if (channel) {
      await channel.waitForConfirms().catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  }

  private readonly setup = async (connection: ChannelModel): Promise<void> => {
    const channel = await connection.createConfirmChannel();
    channel.on("error", () => undefined);
    channel.on("close", () => {
      if (this.channel === channel) this.channel = undefined;
    });
    this.channel = channel;
  };
}
