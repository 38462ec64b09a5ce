import amqp, { type Channel, type ChannelModel, type Message } from "amqplib";
import { EXCHANGE, FAILED_QUEUE } from "@herald/messaging";

/**
 * The harness's own connection to the drill's vhost (straight to RabbitMQ, never through a proxy):
 * queue depths, a tap that keeps a copy of every real message the gateway publishes, publishing
 * straight into a work queue (poison, copies), and reading failed.queue. When a drill restarts
 * RabbitMQ itself, the next call opens a new connection.
 */
export class Broker {
  private link: Promise<{ connection: ChannelModel; channel: Channel }> | undefined;

  private constructor(
    private readonly url: string,
    private readonly managementUrl: string,
    private readonly vhost: string,
  ) {}

  static async open(url: string, managementUrl: string, vhost: string): Promise<Broker> {
    const broker = new Broker(url, managementUrl, vhost);
    await broker.connected();
    return broker;
  }

  private connected(): Promise<{ connection: ChannelModel; channel: Channel }> {
    this.link ??= (async () => {
      const connection = await amqp.connect(this.url);
      connection.on("error", () => undefined);
      connection.on("close", () => (this.link = undefined));
      const channel = await connection.createChannel();
      channel.on("error", () => undefined);
      // A channel closed by the broker (a failed passive check) is replaced on the next call.
      channel.on("close", () => (this.link = undefined));
      return { connection, channel };
    })().catch((error: unknown) => {
      this.link = undefined;
      throw error;
    });
    return this.link;
  }

  private async channel(): Promise<Channel> {
    return (await this.connected()).channel;
  }

  /** Every queue of the vhost with its messages, ready and unacked (the management API's figures lag by up to 5 s). */
  async queues(): Promise<{ name: string; messages: number }[]> {
    const u = new URL(this.managementUrl);
    const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64");
    u.username = "";
    u.password = "";
    const response = await fetch(`${u.toString().replace(/\/$/, "")}/api/queues/${encodeURIComponent(this.vhost)}?columns=name,messages`, {
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`management API: ${response.status}`);
    return ((await response.json()) as { name: string; messages?: number }[]).map((q) => ({ name: q.name, messages: q.messages ?? 0 }));
  }

  /**
   * Messages still to be handled in each queue that has work for the system (not failed.queue, not
   * taps): ready ones counted now, unacked ones as the management API last saw them (a message a
   * worker keeps requeueing is never ready for long).
   */
  async pendingWork(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const { name, messages } of await this.queues()) {
      if (name === FAILED_QUEUE || name.startsWith("chaos.")) continue;
      const { messageCount } = await (await this.channel()).checkQueue(name);
      const n = Math.max(messageCount, messages);
      if (n > 0) out[name] = n;
    }
    return out;
  }

  /** A queue bound like `email.queue` that keeps a copy of every real message published for a routing key. */
  async tap(routingKey: string): Promise<string> {
    const name = `chaos.tap.${routingKey}`;
    const channel = await this.channel();
    await channel.assertQueue(name, { durable: false, autoDelete: false, maxPriority: 10 });
    await channel.bindQueue(name, EXCHANGE, routingKey);
    return name;
  }

  /** Takes up to `max` messages from a queue (acked: they are copies). */
  async take(queue: string, max: number): Promise<Message[]> {
    const out: Message[] = [];
    const channel = await this.channel();
    while (out.length < max) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) break;
      out.push(message);
    }
    return out;
  }

  /** Publishes straight into a queue (the default exchange), as an operator or a broken client could. */
  async inject(queue: string, content: Buffer, properties: amqp.Options.Publish = {}): Promise<void> {
    (await this.channel()).sendToQueue(queue, content, { persistent: true, ...properties });
    await new Promise((r) => setImmediate(r));
  }

  /** An exact copy of a consumed message, published into `queue` again. */
  async injectCopy(queue: string, message: Message): Promise<void> {
    const p = message.properties;
    const properties: amqp.Options.Publish = { headers: (p.headers ?? {}) as Record<string, unknown> };
    if (typeof p.priority === "number") properties.priority = p.priority;
    if (typeof p.messageId === "string") properties.messageId = p.messageId;
    if (typeof p.correlationId === "string") properties.correlationId = p.correlationId;
    if (typeof p.contentType === "string") properties.contentType = p.contentType;
    await this.inject(queue, message.content, properties);
  }

  /** Every message in failed.queue now, read without taking them (each is nacked back). */
  async failedMessages(): Promise<{ headers: Record<string, unknown>; body: string }[]> {
    const channel = await (await this.connected()).connection.createChannel();
    channel.on("error", () => undefined);
    try {
      const out: { headers: Record<string, unknown>; body: string }[] = [];
      const held: Message[] = [];
      for (;;) {
        const message = await channel.get(FAILED_QUEUE, { noAck: false });
        if (!message) break;
        held.push(message);
        out.push({ headers: (message.properties.headers ?? {}), body: message.content.toString("utf8") });
      }
      for (const m of held) channel.nack(m, false, true);
      return out;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** A header's value as text (amqplib gives strings of other publishers as Buffers). */
  static header(headers: Record<string, unknown>, name: string): string {
    const value = headers[name];
    if (Buffer.isBuffer(value)) return value.toString("utf8");
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
    return value === undefined || value === null ? "" : JSON.stringify(value);
  }

  async close(): Promise<void> {
    const link = await this.link?.catch(() => undefined);
    this.link = undefined;
    await link?.connection.close().catch(() => undefined);
  }
}
