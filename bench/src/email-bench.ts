import type { ChildProcess } from "node:child_process";
import nodemailer from "nodemailer";
import { noDelaySocket } from "@herald/providers";
import type { Bench } from "./context";
import { cpuOf, measureCpu, type CpuUsage } from "./cpu";
import { withLoopUtilization } from "./gateway-bench";
import { API_KEY } from "./environment";
import { ask } from "./processes";

/** The bench process's own names in CPU tables: a client, not part of what is measured. */
export const BULK_CLIENT = "send-bulk client (bench)";
export const RAW_SENDER = "nodemailer (bench)";

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

/** Every component but the bench's own client: the platform's processes, the sink, the services. */
export const pipelineCpu = (cpu: CpuUsage | undefined) => cpuOf(cpu, (name) => name !== BULK_CLIENT);

export interface MeasuredEndToEnd {
  result: EmailResult & { acceptSeconds: number };
  cpu: CpuUsage | undefined;
  /** The share of the burst the (first) email worker's event loop was busy. */
  workerLoop: number;
  /** Deliveries recorded `sent` in PostgreSQL after the burst (all so far in this database). */
  sent: number;
}

/**
 * A burst of `mails` through send-bulk and `workers` email workers (started fresh, on an empty
 * email.queue) into the sink, with the CPU of every process; the workers are stopped after.
 */
export async function measuredEndToEnd(bench: Bench, mails: number, workers = 1): Promise<MeasuredEndToEnd> {
  const gateway = await bench.gateway();
  await bench.purgeEmailQueue();
  const apps = await bench.workers(workers);
  const sentBefore = await bench.env.db.prisma.delivery.count({ where: { status: "sent" } });
  const processes: Record<string, number | undefined> = { gateway: gateway.pid, "SMTP sink": bench.sink.pid, [BULK_CLIENT]: process.pid };
  for (const app of apps) processes[app.name] = app.pid;
  const {
    result: { result, cpu },
    loop: workerLoop,
  } = await withLoopUtilization(apps[0]!.url, () =>
    measureCpu(processes, () => endToEnd(bench.sink, gateway.url, bench.env.userIds, mails)),
  );
  // The last "sent" records are written a few milliseconds after the mail reached the sink.
  let sent = 0;
  for (let i = 0; i < 100 && sent < mails; i += 1) {
    sent = (await bench.env.db.prisma.delivery.count({ where: { status: "sent" } })) - sentBefore;
    if (sent < mails) await new Promise((r) => setTimeout(r, 100));
  }
  await bench.stopWorkers();
  return { result, cpu, workerLoop, sent };
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
export async function endToEnd(sink: ChildProcess, gateway: string, userIds: string[], mails: number): Promise<EmailResult & { acceptSeconds: number }> {
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
        headers: { "content-type": "application/json", "x-api-key": API_KEY },
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
  // A burst of 100,000 at a few hundred per second takes minutes: the wait grows with the burst.
  const state = await waitForCount(sink, mails, 120_000 + 20 * mails);
  const seconds = (state.lastAt - started) / 1000;
  return { mails, seconds, perSecond: mails / seconds, duplicates: state.duplicates, acceptSeconds };
}
