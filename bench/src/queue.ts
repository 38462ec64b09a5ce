import amqp from "amqplib";

/** Empties a queue (the benchmark's previous phase left messages in it). */
export async function purgeQueue(url: string, queue: string): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    await channel.purgeQueue(queue);
  } finally {
    await connection.close();
  }
}
