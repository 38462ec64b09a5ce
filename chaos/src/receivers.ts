import type pg from "pg";
import { FakeWebhook } from "@herald/testkit";
import { SmtpSink, type Receipt } from "./smtp-sink";
import { PORTS } from "./system";

/**
 * Everything at the receiving end of one drill: the SMTP sink (email), the webhook receiver on
 * 127.0.0.1, and the sandbox providers' store (push, sms: the rows they wrote into the drill's
 * database, which is what the sandbox provider "delivers" to).
 */
export class Receivers {
  readonly smtp = new SmtpSink();
  readonly webhook = new FakeWebhook();

  constructor(private readonly pool: pg.Pool) {}

  async start(): Promise<void> {
    await this.smtp.start(PORTS.sink);
    await this.webhook.start(PORTS.webhook);
  }

  webhookUrl(): string {
    return this.webhook.url("/chaos");
  }

  /** Every receipt by delivery id, across the channels. */
  async receipts(): Promise<Map<string, number[]>> {
    const all: Receipt[] = [...this.smtp.receipts(), ...this.webhookReceipts(), ...(await this.sandboxReceipts())];
    const byDelivery = new Map<string, number[]>();
    for (const r of all) {
      const times = byDelivery.get(r.deliveryId) ?? [];
      times.push(r.at);
      byDelivery.set(r.deliveryId, times);
    }
    return byDelivery;
  }

  /** The requests the receiver answered 2xx, by the X-Herald-Delivery-Id they carry. */
  private webhookReceipts(): Receipt[] {
    return this.webhook.received.flatMap((r) => {
      const id = r.headers["x-herald-delivery-id"];
      return id ? [{ deliveryId: id, at: r.at }] : [];
    });
  }

  /**
   * Every drill mark any receiver saw (in a mail's subject, a sandbox message's body, a webhook's
   * JSON): how a send that got no 202 (a reset, a timeout) can still be found delivered.
   */
  async marksSeen(prefix: string): Promise<Set<string>> {
    const pattern = new RegExp(`${prefix.replace(/[^a-z0-9-]/gi, "")}-\\d+`, "g");
    const texts = [...this.smtp.subjects(), ...this.webhook.received.map((r) => r.body)];
    const { rows } = await this.pool.query<{ body: string | null }>("SELECT body FROM sandbox_messages");
    texts.push(...rows.map((r) => r.body ?? ""));
    return new Set(texts.flatMap((t) => t.match(pattern) ?? []));
  }

  private async sandboxReceipts(): Promise<Receipt[]> {
    const { rows } = await this.pool.query<{ delivery_id: string; created_at: Date }>(
      "SELECT delivery_id, created_at FROM sandbox_messages WHERE delivery_id IS NOT NULL",
    );
    return rows.map((r) => ({ deliveryId: r.delivery_id, at: r.created_at.getTime() }));
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.smtp.stop(), this.webhook.stop()]);
  }
}
