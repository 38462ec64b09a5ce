import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import request from "supertest";
import type { Express } from "express";
import { Webhook } from "standardwebhooks";
import { createTestEnv, FakeWebhook, verifyWebhookSignature, waitFor, type ReceivedWebhook, type TestEnv } from "@herald/testkit";
import { AUTH, startApi } from "../support/system";
import { createHookTemplate, createHookUser, deliveryIn, sendTo, startWebhookWorker } from "../support/webhook";

type Verify = (secrets: string[], headers: Record<string, string>, rawBody: string, now?: number) => boolean;

/**
 * The receiver's verification function exactly as docs/webhooks-and-dlq.md shows it: the code
 * block after the verify-standard-webhook marker, evaluated on its own (it uses only node:crypto,
 * none of our signing code).
 */
function documentedVerifier(): Verify {
  const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "webhooks-and-dlq.md"), "utf8");
  const block = /<!-- verify-standard-webhook[^>]*-->\s*```js\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("the documented verification function is missing from docs/webhooks-and-dlq.md");
  const define = vm.runInThisContext(`(function (require) {\n${block}\nreturn verifyStandardWebhook;\n})`, { filename: "docs/webhooks-and-dlq.md" }) as (r: NodeJS.Require) => Verify;
  return define(require);
}

describe("Standard Webhooks signatures on the webhook channel", () => {
  let env: TestEnv;
  let app: Express;
  const receiver = new FakeWebhook();
  const verify = documentedVerifier();
  const hits = (p: string): ReceivedWebhook[] => receiver.requests.filter((r) => r.path === p);

  beforeAll(async () => {
    env = await createTestEnv({ RETRY_BASE_DELAY_MS: "100", MAX_RETRY_ATTEMPTS: "3", WEBHOOK_BREAKER_FAILURE_THRESHOLD: "1000" });
    await receiver.start();
    ({ app } = await startApi(env));
    await startWebhookWorker(env);
    await createHookTemplate(app, "order", "webhook", '{"event": "order.shipped", "order": "{{order}}"}', ["order"]);
  });
  afterEach(() => receiver.clearFaults());
  afterAll(async () => {
    await env.cleanup();
    await receiver.stop();
  });

  it("signs a delivery so that the documented function, the official library and X-Signature all verify it", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/plain") });
    expect(user.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const delivery = await deliveryIn(app, await sendTo(app, user.id, "webhook", "order", { order: "A-1" }), "sent");
    const [got] = hits("/plain");
    expect(got!.headers["webhook-id"]).toBe(`msg_${delivery.delivery_id}`);
    expect(got!.headers["webhook-timestamp"]).toBe(got!.headers["x-herald-timestamp"]);
    expect(got!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(verify([user.secret!], got!.headers, got!.body)).toBe(true);
    expect(new Webhook(user.secret!).verify(got!.body, got!.headers)).toEqual({ event: "order.shipped", order: "A-1" });
    expect(verifyWebhookSignature(user.secret!, got!)).toBe(true);
    // What must not verify: another secret, another body, an old timestamp.
    expect(verify([`whsec_${Buffer.alloc(32, 7).toString("base64")}`], got!.headers, got!.body)).toBe(false);
    expect(verify([user.secret!], got!.headers, got!.body.replace("A-1", "A-2"))).toBe(false);
    expect(verify([user.secret!], got!.headers, got!.body, Number(got!.headers["webhook-timestamp"]) + 301)).toBe(false);
  });

  it("after a rotation signs with both secrets, keeps webhook-id across retries and a DLQ replay, then signs with the new one only", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/rotated") });
    const old = user.secret!;
    const rotated = await request(app).post(`/users/${user.id}/webhook-secret/rotate`).set(AUTH).send({ keep_previous_for: "1h" });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.data.webhook_secret as string;
    expect(Date.parse(rotated.body.data.previous_secret_expires_at as string)).toBeGreaterThan(Date.now() + 59 * 60_000);

    // Two 503s, then a 410: retried twice, dead-lettered; replayed, delivered.
    receiver.fail({ mode: "status", status: 503 }, 2);
    receiver.fail({ mode: "status", status: 410 }, 1);
    const requestId = await sendTo(app, user.id, "webhook", "order", { order: "R-1" });
    const dead = await deliveryIn(app, requestId, "dead_lettered");
    const letter = await env.db.prisma.deadLetter.findFirstOrThrow({ where: { deliveryId: dead.delivery_id } });
    expect((await request(app).post(`/dlq/${letter.id}/replay`).set(AUTH)).status).toBe(202);
    await deliveryIn(app, requestId, "sent");

    const attempts = hits("/rotated");
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 410, 200]);
    for (const attempt of attempts) {
      expect(attempt.headers["webhook-id"]).toBe(`msg_${dead.delivery_id}`);
      const signatures = attempt.headers["webhook-signature"]!.split(" ");
      expect(signatures).toHaveLength(2);
      // A receiver still on the old secret, one already on the new, one accepting both: all verify.
      expect(verify([old], attempt.headers, attempt.body)).toBe(true);
      expect(verify([fresh], attempt.headers, attempt.body)).toBe(true);
      expect(verify([fresh, old], attempt.headers, attempt.body)).toBe(true);
      expect(() => new Webhook(old).verify(attempt.body, attempt.headers)).not.toThrow();
      expect(() => new Webhook(fresh).verify(attempt.body, attempt.headers)).not.toThrow();
      // X-Signature is made with the current secret.
      expect(verifyWebhookSignature(fresh, attempt)).toBe(true);
      expect(verifyWebhookSignature(old, attempt)).toBe(false);
    }

    // Once the previous secret has expired, only the new one signs.
    await env.db.prisma.user.update({ where: { id: user.id }, data: { webhookSecretPreviousExpiresAt: new Date(Date.now() - 1000) } });
    await deliveryIn(app, await sendTo(app, user.id, "webhook", "order", { order: "R-2" }), "sent");
    const last = hits("/rotated").at(-1)!;
    expect(last.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(verify([fresh], last.headers, last.body)).toBe(true);
    expect(verify([old], last.headers, last.body)).toBe(false);
  });

  it("keeps an older hex secret working, for X-Signature and for a Standard Webhooks library", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/legacy") });
    const hex = `whsec_${"ab12".repeat(16)}`;
    await env.db.prisma.user.update({ where: { id: user.id }, data: { webhookSecret: hex } });
    await deliveryIn(app, await sendTo(app, user.id, "webhook", "order", { order: "L-1" }), "sent");
    const got = await waitFor(() => hits("/legacy")[0], { what: "the legacy delivery" });
    expect(verifyWebhookSignature(hex, got)).toBe(true);
    expect(verify([hex], got.headers, got.body)).toBe(true);
    expect(() => new Webhook(hex).verify(got.body, got.headers)).not.toThrow();
  });
});
