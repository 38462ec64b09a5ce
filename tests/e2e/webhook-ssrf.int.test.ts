import dns from "node:dns";
import type { Express } from "express";
import { createTestEnv, FakeWebhook, loopbackOnly, type TestEnv } from "@herald/testkit";
import type { Resolver } from "@herald/providers";
import { startApi } from "../support/system";
import { createHookTemplate, createHookUser, deliveryIn, sendTo, startWebhookWorker } from "../support/webhook";

/**
 * The SSRF guard on a real webhook worker. The worker's connections go through a connector that
 * opens loopback connections only and records any other address it is asked for: the internal
 * and metadata addresses below are never contacted, even if the guard broke (the unit tests of
 * the address classifier cover every range; libs/providers/src/webhook-address.test.ts).
 */
const names: Record<string, { address: string; family: number }[]> = {
  "hooks.internal.test": [{ address: "10.20.30.40", family: 4 }],
  "metadata.test": [{ address: "169.254.169.254", family: 4 }],
  "linklocal.test": [{ address: "fe80::1", family: 6 }],
};
const resolver: Resolver = (hostname) => (names[hostname] ? Promise.resolve(names[hostname]) : dns.promises.lookup(hostname, { all: true }));

/** A world with a webhook worker under `overrides`, and its loopback-only connector. */
function world(overrides: Record<string, string>) {
  const w = { receiver: new FakeWebhook(), connector: loopbackOnly() } as { env: TestEnv; app: Express; receiver: FakeWebhook; connector: ReturnType<typeof loopbackOnly> };
  beforeAll(async () => {
    w.env = await createTestEnv({ CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000", WEBHOOK_BREAKER_FAILURE_THRESHOLD: "1000" });
    await w.receiver.start();
    ({ app: w.app } = await startApi(w.env));
    await startWebhookWorker(w.env, overrides, { resolver, connect: w.connector.connect });
    await createHookTemplate(w.app, "ping", "webhook", '{"ping": true}');
  });
  afterEach(() => {
    // The guard refused before connecting: the connector was never asked for anything but loopback.
    expect(w.connector.refused).toEqual([]);
  });
  afterAll(async () => {
    await w.env?.cleanup();
    await w.receiver.stop();
  });
  return w;
}

const INTERNAL: [string, string][] = [
  ["a name that resolves to a private address", "http://hooks.internal.test/ssrf"],
  ["the cloud metadata address, by name", "http://metadata.test/latest/meta-data/"],
  ["the cloud metadata address", "http://169.254.169.254/latest/meta-data/"],
  ["the cloud metadata address, IPv4-mapped", "http://[::ffff:169.254.169.254]/latest/meta-data/"],
  ["a link-local IPv6 address, by name", "http://linklocal.test/ssrf"],
  ["a unique-local IPv6 address", "http://[fd00::1]/ssrf"],
  ["a shared (CGNAT) address", "http://100.64.0.1/ssrf"],
];

describe("webhooks in production (WEBHOOK_ALLOW_PRIVATE=false) reach public addresses only", () => {
  const w = world({ WEBHOOK_ALLOW_PRIVATE: "false" });

  it.each<[string, () => string]>([
    ["a loopback address", () => w.receiver.url("/ssrf")],
    ["localhost", () => `http://localhost:${w.receiver.port}/ssrf`],
    ...INTERNAL.map(([what, url]): [string, () => string] => [what, () => url]),
  ])("dead-letters a webhook to %s as webhook_address_refused, without connecting", async (_what, url) => {
    const user = await createHookUser(w.env, w.app, { webhook_url: url() });
    const requestId = await sendTo(w.app, user.id, "webhook", "ping");
    const delivery = await deliveryIn(w.app, requestId, "dead_lettered");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "webhook_address_refused" });
    expect(w.receiver.requests).toHaveLength(0);
    const row = await w.env.db.prisma.deadLetter.findFirstOrThrow({ where: { requestId } });
    expect(row.errorCode).toBe("webhook_address_refused");
  });
});

describe("webhooks in development (the default) reach loopback, never link-local, metadata or private addresses", () => {
  const w = world({});

  it("delivers to a loopback receiver", async () => {
    const user = await createHookUser(w.env, w.app, { webhook_url: w.receiver.url("/dev") });
    const requestId = await sendTo(w.app, user.id, "webhook", "ping");
    expect(await deliveryIn(w.app, requestId, "sent")).toMatchObject({ attempts: 1 });
    expect(w.receiver.requests.map((r) => r.path)).toEqual(["/dev"]);
  });

  it.each(INTERNAL)("dead-letters a webhook to %s as webhook_address_refused, without connecting", async (_what, url) => {
    const user = await createHookUser(w.env, w.app, { webhook_url: url });
    const requestId = await sendTo(w.app, user.id, "webhook", "ping");
    expect(await deliveryIn(w.app, requestId, "dead_lettered")).toMatchObject({ attempts: 1, last_error_code: "webhook_address_refused" });
  });
});
