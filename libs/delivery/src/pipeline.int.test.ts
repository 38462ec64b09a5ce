import type { GetMessage } from "amqplib";
import { newId, type Channel } from "@herald/db";
import { PermanentDeliveryError, RetryableDeliveryError } from "@herald/errors";
import { ConfirmPublisher, deliveryOutgoing, FAILED_QUEUE } from "@herald/messaging";
import type { Runtime } from "@herald/runtime";
import { TemplateCatalog } from "@herald/templates";
import { UserDirectory } from "@herald/users";
import { createTestEnv, TcpProxy, waitFor, type TestEnv } from "@herald/testkit";
import type { ChannelHandler, SendContext } from "./handler";
import { DeliveryWorker } from "./pipeline";
import { workerPolicy, type WorkerPolicy } from "./policy";

/**
 * The worker runtime on its own, with a fake channel handler whose every call the test scripts
 * (succeed, fail retryably or permanently, hang), against the real PostgreSQL and RabbitMQ:
 * retries, dead letters, the breaker, deadlines, the watchdog and a dead worker's claims are
 * tested here once, whatever channel uses them.
 */
type Step = "ok" | "retryable" | "permanent" | "hang";

class FakeHandler implements ChannelHandler {
  readonly channel: Channel = "email";
  readonly provider = "fake";
  concurrency = 2;
  deadlineMs = 60_000;
  resets = 0;
  readonly calls: string[] = [];
  /** What the next calls do, in order; then `otherwise`. */
  script: Step[] = [];
  otherwise: Step = "ok";
  private readonly hung: (() => void)[] = [];

  reset(): void {
    this.resets += 1;
  }

  /** Lets every hung call complete (successfully), as a provider that answers at last. */
  releaseHung(): void {
    for (const release of this.hung.splice(0)) release();
  }

  send({ delivery }: SendContext): Promise<{ providerMessageId: string }> {
    this.calls.push(delivery.id);
    const step = this.script.shift() ?? this.otherwise;
    switch (step) {
      case "ok":
        return Promise.resolve({ providerMessageId: `fake-${delivery.id}` });
      case "retryable":
        return Promise.reject(new RetryableDeliveryError("fake_down", "the fake provider is down"));
      case "permanent":
        return Promise.reject(new PermanentDeliveryError("fake_rejected", "the fake provider rejects this address"));
      case "hang":
        return new Promise((resolve) => this.hung.push(() => resolve({ providerMessageId: `late-${delivery.id}` })));
    }
  }
}

interface Started {
  worker: DeliveryWorker;
  runtime: Runtime;
  publisher: ConfirmPublisher;
}

describe("the delivery worker runtime", () => {
  let env: TestEnv;
  let userId: string;
  let versionId: string;

  beforeAll(async () => {
    env = await createTestEnv();
    userId = newId();
    await env.db.prisma.user.create({ data: { id: userId, email: "ada@example.com", name: "Ada" } });
    await env.db.prisma.template.create({ data: { id: "t", name: "t" } });
    await env.db.prisma.templateVariant.create({ data: { templateId: "t", channel: "email", language: "en", currentVersion: 1 } });
    versionId = newId();
    await env.db.prisma.templateVersion.create({
      data: { id: versionId, templateId: "t", channel: "email", language: "en", version: 1, subject: "Hi {{name}}", bodyText: "Hello {{name}}", variables: ["name"] },
    });
  });

  afterAll(() => env.cleanup());

  async function start(handler: FakeHandler, policy: Partial<WorkerPolicy> = {}, overrides: Record<string, string> = {}): Promise<Started> {
    const runtime = await env.openRuntime("email-worker", { RETRY_BASE_DELAY_MS: "50", MAX_RETRY_ATTEMPTS: "2", ...overrides });
    const publisher = new ConfirmPublisher(runtime.amqp);
    await publisher.start();
    runtime.releasers.add("publisher", () => publisher.close());
    const worker = new DeliveryWorker(
      {
        service: "email-worker",
        pool: runtime.db.pool,
        amqp: runtime.amqp,
        publisher,
        users: new UserDirectory(runtime.db, runtime.redis),
        templates: new TemplateCatalog(runtime.db, runtime.redis),
        logger: runtime.logger,
      },
      { ...workerPolicy(runtime.config, "email.queue"), ...policy },
      [handler],
    );
    await worker.start();
    runtime.releasers.add("worker", () => worker.stop());
    return { worker, runtime, publisher };
  }

  /** A queued delivery with its message published to email.queue. */
  async function enqueue(publisher: ConfirmPublisher): Promise<string> {
    const requestId = newId();
    const deliveryId = newId();
    await env.db.prisma.notificationRequest.create({
      data: { id: requestId, userId, userRef: userId, templateId: "t", variables: { name: "Ada" }, correlationId: `c-${requestId}` },
    });
    await env.db.prisma.delivery.create({ data: { id: deliveryId, requestId, channel: "email", status: "queued", templateVersionId: versionId } });
    await publisher.publish(deliveryOutgoing({ deliveryId, requestId, channel: "email", correlationId: `c-${requestId}`, priority: "normal" }));
    return deliveryId;
  }

  const delivery = (id: string) => env.db.prisma.delivery.findUniqueOrThrow({ where: { id }, include: { attemptLog: { orderBy: { attempt: "asc" } } } });
  const finished = (id: string, status: string) => waitFor(async () => ((await delivery(id)).status === status ? delivery(id) : undefined), { timeoutMs: 20_000, what: `${id} ${status}` });

  async function failedMessages(): Promise<GetMessage[]> {
    const channel = await env.broker.createChannel();
    const messages: GetMessage[] = [];
    try {
      for (let m = await channel.get(FAILED_QUEUE, { noAck: true }); m; m = await channel.get(FAILED_QUEUE, { noAck: true })) messages.push(m);
    } finally {
      await channel.close();
    }
    return messages;
  }

  it("sends, retries a retryable failure after its delay with the attempt and its provider recorded, and dead-letters exactly once when retries run out", async () => {
    const handler = new FakeHandler();
    const { publisher, runtime } = await start(handler);
    try {
      handler.script = ["retryable"];
      const retried = await enqueue(publisher);
      const sent = await finished(retried, "sent");
      expect(sent).toMatchObject({ attempts: 2, provider: "fake", providerMessageId: `fake-${retried}` });
      expect(sent.attemptLog.map((a) => [a.attempt, a.errorCode, a.provider, a.retryable])).toEqual([[1, "fake_down", "fake", true]]);

      handler.otherwise = "retryable";
      const exhausted = await enqueue(publisher);
      const dead = await finished(exhausted, "dead_lettered");
      // 1 attempt + MAX_RETRY_ATTEMPTS (2) retries.
      expect(dead.attempts).toBe(3);
      expect(dead.attemptLog).toHaveLength(3);
      expect(await env.db.prisma.deadLetter.count({ where: { deliveryId: exhausted } })).toBe(1);
      const failed = await waitFor(async () => {
        const m = await failedMessages();
        return m.length > 0 ? m : undefined;
      });
      expect(failed).toHaveLength(1);
      expect(String(failed[0]!.properties.headers?.["x-error-code"])).toBe("fake_down");

      handler.otherwise = "permanent";
      const rejected = await enqueue(publisher);
      expect((await finished(rejected, "dead_lettered")).attempts).toBe(1);
    } finally {
      await runtime.releasers.releaseAll();
    }
  });

  it("gives a hung call its deadline: a retryable failure, the provider's connections reset, the message retried", async () => {
    const handler = new FakeHandler();
    handler.deadlineMs = 100;
    handler.script = ["hang"];
    const { publisher, runtime } = await start(handler);
    try {
      const id = await enqueue(publisher);
      const sent = await finished(id, "sent");
      expect(sent.attempts).toBe(2);
      expect(sent.attemptLog[0]!.errorCode).toBe("deadline_exceeded");
      expect(handler.resets).toBe(1);
    } finally {
      handler.releaseHung();
      await runtime.releasers.releaseAll();
    }
  });

  it("opens the breaker on consecutive failures, holds the queue while open, and spends no retries on attempts made while the provider is down", async () => {
    const handler = new FakeHandler();
    handler.otherwise = "retryable";
    const { publisher, runtime, worker } = await start(handler, { breaker: { failureThreshold: 2, recoveryTimeoutMs: 300 } });
    try {
      const breaker = worker.breakers.get("fake")!;
      let opened = 0;
      breaker.on("open", () => (opened += 1));
      const ids = [await enqueue(publisher), await enqueue(publisher), await enqueue(publisher)];
      await waitFor(() => opened >= 1 && worker.health().consuming === false, { what: "the breaker to open and hold the queue" });
      expect(worker.health().held_for).toEqual(["every email provider down"]);
      // Half-open trials go on failing until one delivery has made more attempts than
      // 1 + MAX_RETRY_ATTEMPTS (2) would allow it ...
      const most = async () => Math.max(...(await Promise.all(ids.map(async (id) => (await delivery(id)).attempts))));
      await waitFor(async () => (await most()) >= 5, { timeoutMs: 30_000, what: "a delivery with five attempts" });
      // ... and yet none is dead-lettered: attempts while the provider was down spent no retries.
      expect(await env.db.prisma.deadLetter.count({ where: { deliveryId: { in: ids } } })).toBe(0);
      handler.otherwise = "ok";
      for (const id of ids) await finished(id, "sent");
      expect(await env.db.prisma.deadLetter.count({ where: { deliveryId: { in: ids } } })).toBe(0);
    } finally {
      await runtime.releasers.releaseAll();
    }
  });

  it("says it is stalled in /health/ready when it holds messages and nothing moves", async () => {
    const handler = new FakeHandler();
    handler.otherwise = "hang";
    const { publisher, runtime, worker } = await start(handler, { stallAfterMs: 300 });
    try {
      await enqueue(publisher);
      await waitFor(() => handler.calls.length === 1, { what: "the call to hang" });
      const stalled = await waitFor(() => worker.readiness().then(() => undefined, (error: Error) => error.message));
      expect(stalled).toMatch(/^stalled: 1 message\(s\) in hand and no progress for \d+ s/);
      handler.releaseHung();
      await waitFor(() => worker.readiness().then(() => true, () => false), { what: "ready again once it moves" });
    } finally {
      await runtime.releasers.releaseAll();
    }
  });

  it("decides at once what a worker that stopped beating left on the wire, and fences the presumed-dead worker's late outcome", async () => {
    const fast = { WORKER_HEARTBEAT: "300ms", WORKER_DEAD_AFTER: "1s" };
    // Worker A reaches RabbitMQ through a proxy (to cut it), and beats once, at start: a second
    // later it counts as dead, though its call still hangs.
    const broker = new URL(env.config.rabbitmq.url);
    const proxy = new TcpProxy(broker.hostname, Number(broker.port || 5672));
    await proxy.start();
    broker.hostname = "127.0.0.1";
    broker.port = String(proxy.port);
    const a = new FakeHandler();
    a.otherwise = "hang";
    const first = await start(a, { heartbeatMs: 3_600_000 }, { ...fast, RABBITMQ_URL: broker.toString() });
    const id = await enqueue(first.publisher);
    await waitFor(() => a.calls.length === 1, { what: "A's call on the wire" });
    expect(await delivery(id)).toMatchObject({ status: "processing", claimedBy: first.worker.instanceId });

    // A's connection to the broker is cut (its process froze, or its machine went away): the message goes to B.
    await proxy.stop();
    const b = new FakeHandler();
    const second = await start(b, {}, fast);
    try {
      const sent = await finished(id, "sent");
      // Email's policy: sent again by B (the receiver can drop the copy by its Message-ID).
      expect(b.calls).toEqual([id]);
      expect(sent).toMatchObject({ attempts: 2, claimedBy: second.worker.instanceId, providerMessageId: `fake-${id}` });
      // A's call ends at last: its "sent" is fenced off by the attempt number and changes nothing.
      a.releaseHung();
      await waitFor(() => first.worker.health().in_flight === 0, { what: "A to settle its late outcome" });
      expect((await delivery(id)).providerMessageId).toBe(`fake-${id}`);
    } finally {
      await first.runtime.releasers.releaseAll();
      await second.runtime.releasers.releaseAll();
    }
  });
});
