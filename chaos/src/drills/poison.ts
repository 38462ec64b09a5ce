import { randomBytes, randomUUID } from "node:crypto";
import { queueOf } from "@herald/channels";
import { HEADERS } from "@herald/messaging";
import { Broker } from "../broker";
import type { Drill } from "../drill";
import { receivedMails } from "./common";

const EMAIL_QUEUE = queueOf("email");
const POISON_HEADER = "x-chaos-poison";
/** "At once": a poison message is in failed.queue within this long of being published (a slow, shared machine). */
const AT_ONCE_MS = 10_000;

/** Messages no worker can deliver, as a broken client or an operator's mistake would publish them. */
function poisonMessages(): { name: string; content: Buffer }[] {
  const ids = () => ({ delivery_id: randomUUID(), request_id: randomUUID() });
  return [
    { name: "not JSON", content: Buffer.from("this is {not json") },
    { name: "empty body", content: Buffer.alloc(0) },
    { name: "random bytes", content: randomBytes(512) },
    { name: "JSON, not a delivery message", content: Buffer.from(JSON.stringify({ hello: "world" })) },
    { name: "unknown channel", content: Buffer.from(JSON.stringify({ ...ids(), channel: "pigeon" })) },
    { name: "a channel this worker has no handler for", content: Buffer.from(JSON.stringify({ ...ids(), channel: "sms" })) },
    { name: "a delivery that does not exist", content: Buffer.from(JSON.stringify({ ...ids(), channel: "email" })) },
    { name: "200 KB of JSON", content: Buffer.from(JSON.stringify({ ...ids(), channel: "email", padding: "x".repeat(200_000) })) },
  ];
}

/** Poison messages published straight into email.queue among real mails: to failed.queue at once, the queue keeps flowing. */
export const poison: Drill = {
  name: "poison",
  summary: "8 poison messages (not JSON, empty, random bytes, wrong shape, unknown channel, wrong queue, unknown delivery, 200 KB) published straight into email.queue among 40 real mails: each must reach failed.queue at once, the real mails all delivered.",
  short: true,
  smtpDelayMs: 20,
  sends: 40,
  channels: ["email"],
  deadlineS: () => 75,
  async run(ctx) {
    const stream = ctx.load.stream({ count: 40, perSecond: 4, channels: ["email"], signal: ctx.signal });
    await ctx.waitFor(() => receivedMails(ctx) >= 5, 60_000, "real mails flowing");
    const published = new Map<string, number>();
    for (const [i, p] of poisonMessages().entries()) {
      await ctx.broker.inject(EMAIL_QUEUE, p.content, { headers: { [POISON_HEADER]: `p${i}` } });
      published.set(`p${i}`, Date.now());
    }
    ctx.faultEnd = Date.now();
    const names = poisonMessages().map((p) => p.name);
    const arrived = new Map<string, { ms: number; code: string }>();
    await ctx
      .waitFor(
        async () => {
          for (const m of await ctx.broker.failedMessages()) {
            const key = Broker.header(m.headers, POISON_HEADER);
            if (published.has(key) && !arrived.has(key)) arrived.set(key, { ms: Date.now() - published.get(key)!, code: Broker.header(m.headers, HEADERS.errorCode) });
          }
          return arrived.size === published.size;
        },
        2 * AT_ONCE_MS,
        "every poison message in failed.queue",
      )
      .catch(() => undefined);
    const slow: string[] = [];
    for (const [key, i] of [...published.keys()].map((k, i) => [k, i] as const)) {
      const a = arrived.get(key);
      ctx.notes.push(`poison "${names[i]}": ${a ? `in failed.queue after ${(a.ms / 1000).toFixed(1)} s (${a.code})` : "NOT in failed.queue"}`);
      if (!a || a.ms > AT_ONCE_MS) slow.push(names[i]!);
    }
    ctx.checks.push({
      name: "poison to failed.queue at once",
      ok: slow.length === 0,
      detail: slow.length === 0 ? `all ${published.size} within ${AT_ONCE_MS / 1000} s` : `late or missing: ${slow.join("; ")}`,
    });
    await stream;
  },
};
