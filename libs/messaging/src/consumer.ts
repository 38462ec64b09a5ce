import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { AmqpConnection, AmqpLogger } from "./connection";

/** What to do with a message once its handler is done. */
export type Settlement = "ack" | "requeue" | "reject";

export type MessageHandler = (message: ConsumeMessage) => Promise<Settlement>;

export interface ConsumerOptions {
  queue: string;
  prefetch: number;
  handler: MessageHandler;
  logger: AmqpLogger;
}

/**
 * Consumes one queue with manual acks and a prefetch window. A message is settled on the channel
 * it arrived on, and only while that channel is open: after a reconnect the broker redelivers what
 * was unsettled, so a stale ack is dropped rather than sent to the wrong channel.
 *
 * hold(reason) stops taking new messages (in-flight ones finish) until every reason given is
 * released again: a worker holds for each open breaker, for PostgreSQL being away, and so on, and
 * consumes only while nothing holds it.
 */
export class QueueConsumer {
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private readonly holds = new Set<string>();
  private stopped = false;
  private consuming = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: ConsumerOptions,
  ) {}

  async start(): Promise<void> {
    await this.connection.addSetup(this.setup);
  }

  get isPaused(): boolean {
    return this.holds.size > 0 || this.stopped;
  }

  /** Why it is not consuming (empty while it consumes). */
  get heldFor(): string[] {
    return [...this.holds];
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Stops taking messages until `reason` is released (and every other hold too). */
  async hold(reason: string): Promise<void> {
    const first = this.holds.size === 0;
    this.holds.add(reason);
    if (first) await this.cancel();
  }

  async release(reason: string): Promise<void> {
    if (!this.holds.delete(reason) || this.holds.size > 0 || this.stopped) return;
    if (this.channel) await this.consume(this.channel);
  }

  /** Graceful stop: take nothing new, let in-flight messages finish and settle, close the channel. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.connection.removeSetup(this.setup);
    await this.cancel();
    await Promise.allSettled([...this.inFlight]);
    const channel = this.channel;
    this.channel = undefined;
    if (channel) await channel.close().catch(() => undefined);
  }

  private readonly setup = async (connection: ChannelModel): Promise<void> => {
    const channel = await connection.createChannel();
    channel.on("error", (error: unknown) =>
      this.options.logger.warn("consumer channel error", { queue: this.options.queue, error: String(error) }),
    );
    channel.on("close", () => {
      if (this.channel === channel) {
        this.channel = undefined;
        this.consumerTag = undefined;
      }
    });
    await channel.prefetch(this.options.prefetch);
    this.channel = channel;
    if (!this.isPaused) await this.consume(channel);
  };

  private async consume(channel: Channel): Promise<void> {
    if (this.consumerTag || this.consuming) return;
    this.consuming = true;
    try {
      const { consumerTag } = await channel.consume(this.options.queue, (message) => {
        if (message) this.dispatch(channel, message);
      });
      this.consumerTag = consumerTag;
    } finally {
      this.consuming = false;
    }
    // A hold that came while the consume was on its way.
    if (this.isPaused) await this.cancel();
  }

  private async cancel(): Promise<void> {
    const { channel, consumerTag } = this;
    this.consumerTag = undefined;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
  }

  private dispatch(channel: Channel, message: ConsumeMessage): void {
    const work = this.options
      .handler(message)
      .catch((error: unknown): Settlement => {
        // A handler that throws (rather than answering requeue) met something it cannot handle:
        // once, it may be passing; a second time, the message goes to failed.queue through the
        // queue's dead-letter exchange instead of coming straight back forever.
        if (message.fields.redelivered) {
          this.options.logger.warn("message handler failed again; rejecting it to failed.queue", { queue: this.options.queue, error: String(error) });
          return "reject";
        }
        this.options.logger.warn("message handler failed; requeueing", { queue: this.options.queue, error: String(error) });
        return "requeue";
      })
      .then((settlement) => settle(channel, this.channel, message, settlement));
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

function settle(origin: Channel, current: Channel | undefined, message: ConsumeMessage, settlement: Settlement): void {
  // The channel the message came on is gone: the broker has already requeued it.
  if (origin !== current) return;
  try {
    if (settlement === "ack") origin.ack(message);
    else origin.nack(message, false, settlement === "requeue");
  } catch {
    // The channel closed between the check and the call; the broker redelivers.
  }
}
