import type { ChildProcess } from "node:child_process";
import nodemailer from "nodemailer";
import { noDelaySocket } from "@herald/providers";
import { ask } from "./processes";

interface SinkCount {
  count: number;
  firstAt: number;
  lastAt: number;
  duplicates: number;
}

export interface EmailResult {
  mails: number;
  seconds: number;
  perSecond: number;
  duplicates: number;
}

export async function waitForCount(sink: ChildProcess, wanted: number, timeoutMs: number): Promise<SinkCount> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await ask<SinkCount>(sink, "count");
    if (state.count >= wanted) return state;
    if (Date.now() > deadline) throw new Error(`only ${state.count} of ${wanted} mails arrived in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The ceiling: pooled nodemailer (no per-connection message cap) straight into the sink. */
export async function rawSmtp(sink: ChildProcess, port: number, mails: number, maxConnections: number): Promise<EmailResult> {
  await ask(sink, "reset");
  // The same transport settings as the platform's SMTP provider (pooled, no message cap, Nagle off).
  const transport = nodemailer.createTransport({ pool: true, host: "127.0.0.1", port, secure: false, maxConnections, maxMessages: Infinity, getSocket: noDelaySocket(15_000) });
  const started = Date.now();
  await Promise.all(
    Array.from({ length: mails }, (_, i) =>
      transport.sendMail({
        from: "Herald <no-reply@herald.local>",
        to: `bench${i}@example.com`,
        subject: "Welcome, Ada!",
        text: "Hello Ada,\n\nWelcome aboard. We are glad you are here.\n",
        html: "<p>Hello Ada,</p><p>Welcome aboard. We are glad you are here.</p>",
        messageId: `<raw-${i}@bench>`,
      }),
    ),
  );
  const seconds = (Date.now() - started) / 1000;
  transport.close();
  const state = await waitForCount(sink, mails, 10_000);
  return { mails, seconds, perSecond: mails / seconds, duplicates: state.duplicates };
}

/**
 * The full path: a burst of `mails` sends accepted by the gateway through send-bulk (1000 per
 * request, two requests in flight), through PostgreSQL, RabbitMQ and the email worker into the
 * sink. Timed from the first request to the last mail at the sink.
 */
export async function endToEnd(sink: ChildProcess, gateway: string, apiKey: string, userIds: string[], mails: number): Promise<EmailResult & { acceptSeconds: number }> {
  await ask(sink, "reset");
  const batches: unknown[][] = [];
  for (let i = 0; i < mails; i += 1000) {
    batches.push(
      Array.from({ length: Math.min(1000, mails - i) }, (_, j) => ({
        user_id: userIds[(i + j) % userIds.length],
        channel: "email",
        template_id: "welcome_email",
        variables: { name: "Ada" },
      })),
    );
  }
  const started = Date.now();
  let cursor = 0;
  const post = async (): Promise<void> => {
    while (cursor < batches.length) {
      const batch = batches[cursor++]!;
      const res = await fetch(`${gateway}/notifications/send-bulk`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": apiKey },
        body: JSON.stringify({ notifications: batch }),
      });
      if (res.status >= 300 && res.status !== 207) throw new Error(`send-bulk answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { data: { success: boolean }[] };
      const refused = body.data.filter((item) => !item.success).length;
      if (refused > 0) throw new Error(`send-bulk refused ${refused} items`);
    }
  };
  await Promise.all([post(), post()]);
  const acceptSeconds = (Date.now() - started) / 1000;
  const state = await waitForCount(sink, mails, 300_000);
  const seconds = (state.lastAt - started) / 1000;
  return { mails, seconds, perSecond: mails / seconds, duplicates: state.duplicates, acceptSeconds };
}
