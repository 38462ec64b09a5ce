import dns from "node:dns";
import type { Express } from "express";
import { createTestEnv, FakeWebhook, type TestEnv } from "@herald/testkit";
import type { Resolver } from "@herald/providers";
import { startApi } from "../support/system";
import { createHookTemplate, createHookUser, deliveryIn, sendTo, startWebhookWorker } from "../support/webhook";

describe("webhooks outside development refuse private addresses (SSRF)", () => {
  let env: TestEnv;
  let app: Express;
  const receiver = new FakeWebhook();
  /** DNS with names of our own (an internal host, cloud metadata); the system's for the rest. */
  const names: Record<string, { address: string; family: number }[]> = {
    "hooks.internal.test": [{ address: "10.20.30.40", family: 4 }],
    "metadata.test": [{ address: "169.254.169.254", family: 4 }],
  };
  const resolver: Resolver = (hostname) => (names[hostname] ? Promise.resolve(names[hostname]) : dns.promises.lookup(hostname, { all: true }));

  beforeAll(async () => {
    env = await createTestEnv({ CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000", WEBHOOK_BREAKER_FAILURE_THRESHOLD: "1000" });
    await receiver.start();
    ({ app } = await startApi(env));
    await startWebhookWorker(env, { WEBHOOK_ALLOW_PRIVATE: "false" }, { resolver });
    await createHookTemplate(app, "ping", "webhook", '{"ping": true}');
  });

  afterAll(async () => {
    await env.cleanup();
    await receiver.stop();
  });

  it.each([
    ["a loopback address", () => receiver.url("/ssrf")],
    ["localhost", () => `http://localhost:${receiver.port}/ssrf`],
    ["a name that resolves to a private address", () => "http://hooks.internal.test/ssrf"],
    ["the cloud metadata address, by name", () => "http://metadata.test/latest/meta-data/"],
    ["the cloud metadata address", () => "http://169.254.169.254/latest/meta-data/"],
  ])("dead-letters a webhook to %s as webhook_address_refused, without connecting", async (_what, url) => {
    const user = await createHookUser(env, app, { webhook_url: url() });
    const requestId = await sendTo(app, user.id, "webhook", "ping");
    const delivery = await deliveryIn(app, requestId, "dead_lettered");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "webhook_address_refused" });
    expect(receiver.requests).toHaveLength(0);
    const row = await env.db.prisma.deadLetter.findFirstOrThrow({ where: { requestId } });
    expect(row.errorCode).toBe("webhook_address_refused");
  });
});
