import { queueOf } from "@herald/channels";
import { priorityQueueName } from "@herald/messaging";
import { waitFor } from "@herald/testkit";
import { drainQueue, header } from "../support/broker";
import { emailWorld } from "../support/gateway";
import { createUser, createWelcomeTemplate, sendEmail, startEmailWorker, statusOf } from "../support/system";

/**
 * RABBITMQ_QUEUE_TYPE=quorum on the local (single-node) RabbitMQ: the work, delay and failed
 * queues are quorum queues, which have no x-max-priority here, so high and critical messages go to
 * `<queue>.priority`, which workers consume first: they still overtake the queued lower ones.
 */
describe("quorum queues", () => {
  const w = emailWorld({ RABBITMQ_QUEUE_TYPE: "quorum", WORKER_PREFETCH: "1", RETRY_BASE_DELAY_MS: "100", MAX_RETRY_ATTEMPTS: "1" });
  beforeAll(() => createWelcomeTemplate(w.app));

  it("declares every queue as a quorum queue, with a priority queue per work queue", async () => {
    const channel = await w.env.broker.createChannel();
    try {
      // A passive declare with other arguments would fail; checkQueue only asks that it exists.
      for (const queue of [queueOf("email"), priorityQueueName(queueOf("email")), "failed.queue", "email.queue.retry.100ms", "email.queue.priority.retry.100ms"]) {
        await channel.checkQueue(queue);
      }
    } finally {
      await channel.close();
    }
    const admin = new URL(w.env.config.rabbitmq.managementUrl);
    const vhost = new URL(w.env.config.rabbitmq.url).pathname.slice(1);
    const response = await fetch(`${admin.origin}/api/queues/${vhost}`, {
      headers: { Authorization: `Basic ${Buffer.from(`${decodeURIComponent(admin.username)}:${decodeURIComponent(admin.password)}`).toString("base64")}` },
    });
    const queues = (await response.json()) as { name: string; type: string }[];
    expect(queues.length).toBeGreaterThanOrEqual(10);
    for (const q of queues) expect({ name: q.name, type: q.type }).toEqual({ name: q.name, type: "quorum" });
  });

  it("lets high and critical overtake the lower ones already queued", async () => {
    const user = await createUser(w.app);
    const lowerNames = ["low", ...Array.from({ length: 7 }, (_, i) => `normal-${i + 1}`)];
    const sends = [...lowerNames.map((name) => [name === "low" ? "low" : "normal", name] as const), ["high", "high"] as const, ["critical", "critical"] as const];
    for (const [priority, name] of sends) {
      expect((await sendEmail(w.app, user.id, { priority, variables: { name } })).status).toBe(202);
    }
    await waitFor(async () => (await w.env.queueDepth(queueOf("email"))) === 8 && (await w.env.queueDepth(priorityQueueName(queueOf("email")))) === 2, {
      what: "eight messages in email.queue, two in email.queue.priority",
    });
    const worker = await startEmailWorker(w.env, w.smtp.port, { SMTP_MAX_CONNECTIONS: "1" });
    await waitFor(() => w.smtp.received.filter((m) => m.to === user.email).length === 10, { what: "ten mails" });
    const subjects = w.smtp.received.filter((m) => m.to === user.email).map((m) => m.subject);
    // Queued behind eight lower ones, each urgent one goes out among the first four: the worker
    // consumes both queues at once (one message in hand from each), so an urgent one can find a
    // lower one on the wire and, when their claims race for the one connection, one more; without
    // the priority queue they would be the ninth and tenth.
    expect(subjects.indexOf("Welcome, high!")).toBeLessThanOrEqual(3);
    expect(subjects.indexOf("Welcome, critical!")).toBeLessThanOrEqual(3);
    const lower = subjects.filter((s) => !/critical|high/.test(s));
    expect(lower).toEqual(lowerNames.map((name) => `Welcome, ${name}!`));
    await worker.runtime.releasers.releaseAll();
  });

  it("retries through the quorum delay queues and dead-letters to the quorum failed.queue", async () => {
    const { runtime } = await startEmailWorker(w.env, w.smtp.port);
    try {
      w.smtp.fail({ mode: "reply", code: 451, message: "later" }, 1);
      const user = await createUser(w.app);
      const retried = await sendEmail(w.app, user.id, { priority: "critical" });
      await waitFor(async () => (await statusOf(w.app, retried.body.data.request_id)).status === "sent", { what: "the retried mail sent" });
      expect((await statusOf(w.app, retried.body.data.request_id)).deliveries[0]).toMatchObject({ attempts: 2 });

      w.smtp.fail({ mode: "reply", code: 550, message: "no such user" }, 1);
      const rejected = await sendEmail(w.app, (await createUser(w.app)).id);
      await waitFor(async () => (await statusOf(w.app, rejected.body.data.request_id)).status === "dead_lettered", { what: "the rejected mail dead-lettered" });
      const dead = await waitFor(async () => {
        const messages = await drainQueue(w.env.broker, "failed.queue");
        return messages.length > 0 ? messages : undefined;
      });
      expect(header(dead[0]!, "x-error-code")).toBe("smtp_550");
    } finally {
      await runtime.releasers.releaseAll();
    }
  });
});
