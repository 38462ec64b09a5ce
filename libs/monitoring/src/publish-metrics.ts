import { prom, type Registry } from "@herald/http";
import type { PublishObserver } from "@herald/messaging";

/**
 * amqp_published_messages_total, amqp_confirmed_messages_total, amqp_refused_messages_total
 * (nacked by the broker, or no confirm in time): on every process that publishes.
 */
export function publishMetrics(registry: Registry): PublishObserver {
  const counter = (name: string, help: string) => new prom.Counter({ name, help, registers: [registry] });
  const published = counter("amqp_published_messages_total", "Messages published to RabbitMQ (each waits for a broker confirm)");
  const confirmed = counter("amqp_confirmed_messages_total", "Published messages the broker confirmed");
  const refused = counter("amqp_refused_messages_total", "Published messages the broker nacked or did not confirm in time (the outbox or the consumed message keeps them)");
  return {
    published: (n) => published.inc(n),
    confirmed: (n) => confirmed.inc(n),
    refused: (n) => refused.inc(n),
  };
}
