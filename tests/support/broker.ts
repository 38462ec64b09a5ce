import type { ChannelModel, GetMessage } from "amqplib";

/** Takes every message waiting in a queue (acks them), for assertions. */
export async function drainQueue(broker: ChannelModel, queue: string): Promise<GetMessage[]> {
  const channel = await broker.createChannel();
  const messages: GetMessage[] = [];
  try {
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) break;
      messages.push(message);
    }
  } finally {
    await channel.close();
  }
  return messages;
}

export function header(message: GetMessage, name: string): string | undefined {
  const value: unknown = message.properties.headers?.[name];
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString();
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** Publishes raw bytes straight into a queue, as a misbehaving producer would. */
export async function publishRaw(broker: ChannelModel, queue: string, content: string | Buffer, headers: Record<string, unknown> = {}): Promise<void> {
  const channel = await broker.createConfirmChannel();
  try {
    channel.sendToQueue(queue, Buffer.isBuffer(content) ? content : Buffer.from(content), { persistent: true, headers });
    await channel.waitForConfirms();
  } finally {
    await channel.close();
  }
}
