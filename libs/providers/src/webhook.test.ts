import { PermanentDeliveryError, RetryableDeliveryError } from "@herald/errors";
import { closedPort, FakeWebhook, loopbackOnly, TEST_TLS, verifyWebhookSignature as verify } from "@herald/testkit";
import { WebhookProvider, type WebhookMessage } from "./webhook";
import { SlackProvider } from "./webhook-slack";
import type { Resolver } from "./webhook-http";

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the send to fail");
}

describe("WebhookProvider", () => {
  const receiver = new FakeWebhook();
  let provider: WebhookProvider;
  const message = (over: Partial<WebhookMessage> = {}): WebhookMessage => ({
    url: receiver.url(),
    body: '{"event":"order.created","id":42}',
    secret: "whsec_test",
    deliveryId: "0190a000-0000-7000-8000-000000000001",
    requestId: "0190a000-0000-7000-8000-000000000002",
    correlationId: "corr-1",
    ...over,
  });

  beforeAll(async () => {
    await receiver.start();
    provider = new WebhookProvider({ timeoutMs: 400, allowPrivate: true, concurrency: 4 });
  });
  afterEach(() => receiver.clearFaults());
  afterAll(async () => {
    await provider.close();
    await receiver.stop();
  });

  it("POSTs the body as JSON with a signature a receiver can verify, and the ids", async () => {
    const receipt = await provider.send(message());
    expect(receipt).toEqual({ providerMessageId: null, status: 200 });
    const got = receiver.requests.at(-1)!;
    expect(got.method).toBe("POST");
    expect(got.path).toBe("/hook");
    expect(got.body).toBe('{"event":"order.created","id":42}');
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers["x-herald-delivery-id"]).toBe("0190a000-0000-7000-8000-000000000001");
    expect(got.headers["x-herald-request-id"]).toBe("0190a000-0000-7000-8000-000000000002");
    expect(got.headers["x-correlation-id"]).toBe("corr-1");
    const now = Math.floor(Date.now() / 1000);
    expect(verify("whsec_test", got, now)).toBe(true);
    expect(verify("another-secret", got, now)).toBe(false);
    expect(verify("whsec_test", { ...got, body: got.body.replace("42", "43") }, now)).toBe(false);
    expect(verify("whsec_test", got, now + 301)).toBe(false);
  });

  it.each([
    [503, "webhook_http_503"],
    [500, "webhook_http_500"],
    [429, "webhook_http_429"],
    [408, "webhook_http_408"],
  ])("treats HTTP %i as retryable", async (status, code) => {
    receiver.fail({ mode: "status", status, body: "busy" }, 1);
    const error = await failure(provider.send(message()));
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error).toMatchObject({ code, message: `answered HTTP ${status}: busy` });
  });

  it.each([
    [400, "webhook_http_400"],
    [401, "webhook_http_401"],
    [404, "webhook_http_404"],
    [410, "webhook_http_410"],
  ])("treats HTTP %i as permanent", async (status, code) => {
    receiver.fail({ mode: "status", status }, 1);
    const error = await failure(provider.send(message()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe(code);
  });

  it("does not follow a redirect: permanent webhook_redirect, and the target is never requested", async () => {
    receiver.fail({ mode: "redirect", location: receiver.url("/elsewhere"), status: 307 }, 1);
    const before = receiver.requests.length;
    const error = await failure(provider.send(message()));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe("webhook_redirect");
    expect(error.message).toContain("/elsewhere");
    expect(receiver.requests.length - before).toBe(1);
    expect(receiver.requests.some((r) => r.path === "/elsewhere")).toBe(false);
  });

  it("gives up on a receiver that does not answer within the timeout (retryable)", async () => {
    receiver.fail({ mode: "hang" }, 1);
    const started = Date.now();
    const error = await failure(provider.send(message()));
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error.code).toBe("webhook_timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
  });

  it("a refused connection is retryable", async () => {
    const error = await failure(provider.send(message({ url: `http://127.0.0.1:${await closedPort()}/hook` })));
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error.code).toBe("webhook_connection_failed");
  });

  it("refuses URLs that are not http(s)", async () => {
    const error = await failure(provider.send(message({ url: "ftp://example.com/x" })));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe("webhook_invalid_url");
  });
});

describe("WebhookProvider with private addresses refused (SSRF)", () => {
  const receiver = new FakeWebhook();
  const lookups: string[] = [];
  const table: Record<string, { address: string; family: number }[]> = {
    "hooks.example.test": [{ address: "10.0.0.5", family: 4 }],
    "metadata.example.test": [{ address: "169.254.169.254", family: 4 }],
    "mixed.example.test": [
      { address: "93.184.216.34", family: 4 },
      { address: "127.0.0.1", family: 4 },
    ],
    "mapped.example.test": [{ address: "::ffff:127.0.0.1", family: 6 }],
  };
  const resolver: Resolver = (hostname) => {
    lookups.push(hostname);
    const found = table[hostname];
    return found ? Promise.resolve(found) : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }));
  };
  let provider: WebhookProvider;
  let slack: SlackProvider;
  // Connections open to loopback only, so the public and internal addresses above are never contacted.
  const connector = loopbackOnly();

  beforeAll(async () => {
    await receiver.start();
    provider = new WebhookProvider({ timeoutMs: 1000, allowPrivate: false, concurrency: 2, resolver, connect: connector.connect });
    slack = new SlackProvider({ timeoutMs: 1000, allowPrivate: false, concurrency: 2, resolver, connect: connector.connect });
  });
  afterEach(() => expect(connector.refused).toEqual([]));
  afterAll(async () => {
    await provider.close();
    await slack.close();
    await receiver.stop();
  });

  const send = (url: string) =>
    failure(provider.send({ url, body: "{}", secret: "s", deliveryId: "d", requestId: "r", correlationId: "c" }));

  it.each([
    ["an IPv4 loopback literal", () => receiver.url()],
    ["an IPv6 loopback literal", () => `http://[::1]:${receiver.port}/hook`],
    ["an IPv4-mapped IPv6 literal", () => `http://[::ffff:127.0.0.1]:${receiver.port}/hook`],
  ])("refuses %s without connecting", async (_what, url) => {
    const before = receiver.requests.length;
    const error = await send(url());
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe("webhook_address_refused");
    expect(receiver.requests.length).toBe(before);
  });

  it.each([
    ["hooks.example.test", "10.0.0.5"],
    ["metadata.example.test", "169.254.169.254"],
    ["mixed.example.test", "127.0.0.1"],
    ["mapped.example.test", "::ffff:127.0.0.1"],
  ])("refuses %s, which resolves to %s, at connect time", async (host, address) => {
    const error = await send(`http://${host}:${receiver.port}/hook`);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe("webhook_address_refused");
    expect(error.message).toContain(address);
    expect(lookups).toContain(host);
  });

  it("development's level (loopback) reaches loopback by name and literal, and refuses the rest", async () => {
    const dev = new WebhookProvider({ timeoutMs: 1000, allowPrivate: "loopback", concurrency: 1, resolver, connect: connector.connect });
    const post = (url: string) => dev.send({ url, body: "{}", secret: "s", deliveryId: "d", requestId: "r", correlationId: "c" });
    const before = receiver.requests.length;
    await expect(post(receiver.url())).resolves.toMatchObject({ status: 200 });
    await expect(post(`http://[::ffff:127.0.0.1]:${receiver.port}/hook`)).resolves.toMatchObject({ status: 200 });
    for (const url of [`http://metadata.example.test:${receiver.port}/x`, `http://hooks.example.test:${receiver.port}/x`, "http://169.254.169.254/x", "http://[fd00::1]/x"]) {
      expect(await failure(post(url))).toMatchObject({ code: "webhook_address_refused" });
    }
    await dev.close();
    expect(receiver.requests.length).toBe(before + 2);
  });

  it("with the guard off (WEBHOOK_ALLOW_PRIVATE=true) every connection still goes through the connector", async () => {
    // What makes a broken guard harmless in the tests: the connector sees, and refuses, the address.
    const open = loopbackOnly();
    const off = new WebhookProvider({ timeoutMs: 1000, allowPrivate: "all", concurrency: 1, resolver, connect: open.connect });
    const error = await failure(off.send({ url: "http://hooks.example.test:9/x", body: "{}", secret: "s", deliveryId: "d", requestId: "r", correlationId: "c" }));
    const literal = await failure(off.send({ url: "http://169.254.169.254/x", body: "{}", secret: "s", deliveryId: "d", requestId: "r", correlationId: "c" }));
    await off.close();
    expect(error).toMatchObject({ code: "webhook_connection_failed" });
    expect(literal).toMatchObject({ code: "webhook_connection_failed" });
    expect(open.refused).toEqual(["10.0.0.5", "169.254.169.254"]);
  });

  it("resolves through the system resolver by default: localhost is refused", async () => {
    const system = new WebhookProvider({ timeoutMs: 1000, allowPrivate: false, concurrency: 1, connect: connector.connect });
    const before = receiver.requests.length;
    const error = await failure(system.send({ url: `http://localhost:${receiver.port}/hook`, body: "{}", secret: "s", deliveryId: "d", requestId: "r", correlationId: "c" }));
    await system.close();
    expect(error).toMatchObject({ code: "webhook_address_refused", retryable: false });
    expect(receiver.requests.length).toBe(before);
  });

  it("a name that does not resolve is retryable", async () => {
    const error = await send("http://nowhere.example.test/hook");
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error.code).toBe("webhook_dns_failed");
  });

  it("applies to Slack URLs too", async () => {
    const error = await failure(slack.send({ url: receiver.url("/services/T/B/x"), body: '{"text":"hi"}' }));
    expect(error).toMatchObject({ code: "slack_address_refused" });
  });
});

describe("SlackProvider (over HTTPS, as Slack is)", () => {
  const receiver = new FakeWebhook({ tls: true });
  let slack: SlackProvider;

  beforeAll(async () => {
    await receiver.start();
    slack = new SlackProvider({ timeoutMs: 1000, allowPrivate: true, concurrency: 2, ca: TEST_TLS.cert });
  });
  afterEach(() => receiver.clearFaults());
  afterAll(async () => {
    await slack.close();
    await receiver.stop();
  });

  it("refuses a certificate it does not trust, permanently", async () => {
    const untrusting = new SlackProvider({ timeoutMs: 1000, allowPrivate: true, concurrency: 1 });
    const before = receiver.requests.length;
    const error = await failure(untrusting.send({ url: receiver.url(), body: '{"text":"x"}' }));
    await untrusting.close();
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe("slack_tls_failed");
    expect(receiver.requests.length).toBe(before);
  });

  it("POSTs the message JSON unsigned and takes Slack's 200 ok", async () => {
    await expect(slack.send({ url: receiver.url("/services/T0/B0/abc"), body: '{"text":"Deploy done"}' })).resolves.toMatchObject({ status: 200 });
    const got = receiver.requests.at(-1)!;
    expect(JSON.parse(got.body)).toEqual({ text: "Deploy done" });
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers["x-signature"]).toBeUndefined();
  });

  it.each([
    [400, "invalid_payload", "slack_invalid_payload"],
    [403, "action_prohibited", "slack_action_prohibited"],
    [404, "no_service", "slack_no_service"],
    [410, "channel_is_archived", "slack_channel_is_archived"],
  ])("HTTP %i %s is permanent (%s)", async (status, body, code) => {
    receiver.fail({ mode: "status", status, body }, 1);
    const error = await failure(slack.send({ url: receiver.url(), body: '{"text":"x"}' }));
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect(error.code).toBe(code);
  });

  it("429 with Retry-After and 5xx are retryable", async () => {
    receiver.fail({ mode: "status", status: 429, body: "rate_limited", headers: { "Retry-After": "30" } }, 1);
    const limited = await failure(slack.send({ url: receiver.url(), body: '{"text":"x"}' }));
    expect(limited).toBeInstanceOf(RetryableDeliveryError);
    expect(limited).toMatchObject({ code: "slack_rate_limited" });
    expect(limited.message).toContain("Retry-After: 30");
    receiver.fail({ mode: "status", status: 500, body: "rollup_error" }, 1);
    const down = await failure(slack.send({ url: receiver.url(), body: '{"text":"x"}' }));
    expect(down).toBeInstanceOf(RetryableDeliveryError);
    expect(down).toMatchObject({ code: "slack_rollup_error" });
    receiver.fail({ mode: "status", status: 502, body: "<html>Bad Gateway</html>" }, 1);
    expect(await failure(slack.send({ url: receiver.url(), body: '{"text":"x"}' }))).toMatchObject({ code: "slack_http_502", retryable: true });
  });
});
