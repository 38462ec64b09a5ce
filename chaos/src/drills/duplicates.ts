import type { Message } from "amqplib";
import { queueOf } from "@herald/channels";
import type { Drill } from "../drill";
import { receivedMails } from "./common";

const EMAIL_QUEUE = queueOf("email");

/** Copies of real messages injected into email.queue, while the originals are in flight and after they were sent: each mail delivered once. */
export const duplicates: Drill = {
  name: "duplicates",
  summary: "100 mails (the provider taking 20 ms per mail); two exact copies of each real message (taken from a tap on the exchange) are published into email.queue while the originals are in flight, and one more after they were sent: every mail delivered once.",
  short: false,
  smtpDelayMs: 20,
  sends: 100,
  channels: ["email"],
  deadlineS: () => 150,
  async run(ctx) {
    const tap = await ctx.broker.tap("email");
    await ctx.load.bulk("email", 100);
    const accepted = ctx.load.accepted().length;
    const originals: Message[] = [];
    await ctx.waitFor(
      async () => {
        originals.push(...(await ctx.broker.take(tap, accepted - originals.length)));
        return originals.length >= accepted;
      },
      30_000,
      "a copy of every published message",
    );
    ctx.notes.push(`${receivedMails(ctx)} of ${accepted} mails at the sink when the first copies went in`);
    for (const m of originals) {
      await ctx.broker.injectCopy(EMAIL_QUEUE, m);
      await ctx.broker.injectCopy(EMAIL_QUEUE, m);
    }
    await ctx.waitFor(() => receivedMails(ctx) >= accepted, 90_000, "every original delivered").catch(() => undefined);
    for (const m of originals) await ctx.broker.injectCopy(EMAIL_QUEUE, m);
    ctx.faultEnd = Date.now();
    ctx.notes.push(`${originals.length * 3} copies injected (2 while in flight, 1 after sent, per message)`);
  },
};
