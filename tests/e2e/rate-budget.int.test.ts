import type { Express } from "express";
import { busiestWindow, createTestEnv, FakeFcm, FakeTwilio, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { startApi, statusOf } from "../support/system";
import { createChannelTemplates, createDeviceUser, sendOrder, startPushWorker, startSmsWorker, twilioEnv } from "../support/channels";

const SMS_RATE = 4;
const WHATSAPP_RATE = 2;
const PUSH_RATE = 3;
/**
 * Sends are spaced 1000/rate ms apart when they take their turn, but they are timed where the fake
 * receives them, and on a loaded 2-core run one can arrive 100 ms+ after its turn while the next
 * is on time. A window 200 ms short of a second tolerates that much jitter and still catches a
 * missing or per-process budget: without one, the whole burst arrives within about 100 ms.
 */
const WINDOW = 1000 - 200;

describe("per-provider outbound rate budgets", () => {
  let env: TestEnv;
  let app: Express;
  const twilio = new FakeTwilio();
  const fcm = new FakeFcm();

  beforeAll(async () => {
    env = await createTestEnv({
      SMS_RATE_PER_SECOND: String(SMS_RATE),
      WHATSAPP_RATE_PER_SECOND: String(WHATSAPP_RATE),
      PUSH_RATE_PER_SECOND: String(PUSH_RATE),
    });
    await twilio.start();
    await fcm.start();
    ({ app } = await startApi(env, twilioEnv(twilio)));
    // Two SMS worker replicas: the budget is shared through Redis, not per process.
    const replicas = [await startSmsWorker(env, twilio), await startSmsWorker(env, twilio)];
    expect(replicas[0]!.worker.health()).toMatchObject({ rate_budgets: { "twilio:sms": "4/s", "twilio:whatsapp": "2/s" } });
    await startPushWorker(env, fcm);
    await createChannelTemplates(app);
  });

  afterAll(async () => {
    await env.cleanup();
    await twilio.stop();
    await fcm.stop();
  });

  it("makes a burst wait for its budget (shared by the replicas, one per channel), and fails nothing", async () => {
    // Warm up every client (module loading, TLS handshakes): this test is about the budget.
    const warm = await createDeviceUser(app, [["budget-warm", "web"]]);
    await Promise.all([sendOrder(app, warm.id, "sms"), sendOrder(app, warm.id, "sms"), sendOrder(app, warm.id, "whatsapp"), sendOrder(app, warm.id, "push")]);
    await waitFor(() => twilio.received.length === 3 && fcm.received.length === 1, { what: "the warm-up messages" });
    await sleep(1100);
    const since = Date.now();

    const smsUsers = await Promise.all(Array.from({ length: 12 }, () => createDeviceUser(app)));
    const whatsappUsers = await Promise.all(Array.from({ length: 5 }, () => createDeviceUser(app)));
    const pushUsers = await Promise.all(Array.from({ length: 7 }, (_, i) => createDeviceUser(app, [[`budget-${i}`, "android"]])));
    const requests = await Promise.all([
      ...smsUsers.map((u) => sendOrder(app, u.id, "sms")),
      ...whatsappUsers.map((u) => sendOrder(app, u.id, "whatsapp")),
      ...pushUsers.map((u) => sendOrder(app, u.id, "push")),
    ]);

    await waitFor(() => twilio.received.length === 3 + 17 && fcm.received.length === 1 + 7, { timeoutMs: 20_000, what: "every message" });
    const burst = twilio.sends.filter((s) => s.at >= since);
    const sms = burst.filter((s) => !s.to.startsWith("whatsapp:")).map((s) => s.at);
    const whatsapp = burst.filter((s) => s.to.startsWith("whatsapp:")).map((s) => s.at);
    const push = fcm.sends.filter((s) => s.at >= since).map((s) => s.at);
    expect([sms.length, whatsapp.length, push.length]).toEqual([12, 5, 7]);
    expect(busiestWindow(sms, WINDOW)).toBeLessThanOrEqual(SMS_RATE);
    expect(busiestWindow(whatsapp, WINDOW)).toBeLessThanOrEqual(WHATSAPP_RATE);
    expect(busiestWindow(push, WINDOW)).toBeLessThanOrEqual(PUSH_RATE);
    // The budgets are per channel: WhatsApp did not wait behind the SMS burst.
    expect(Math.min(...whatsapp)).toBeLessThan(Math.max(...sms));

    for (const requestId of requests) {
      const status = await statusOf(app, requestId);
      expect(status.deliveries[0]).toMatchObject({ status: "sent", attempts: 1 });
    }
  });
});
