import type { Express } from "express";
import { createTestEnv, earlierThanBudget, FakeFcm, FakeTwilio, waitFor, type TestEnv } from "@herald/testkit";
import { startApi, statusOf } from "../support/system";
import { createChannelTemplates, createDeviceUser, sendOrder, startPushWorker, startSmsWorker, twilioEnv } from "../support/channels";

const SMS_RATE = 4;
const WHATSAPP_RATE = 2;
const PUSH_RATE = 3;
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
    // The recipients, one after the other (creating them is not what this test is about).
    const users = async (count: number, devices: (i: number) => [string, "android"][] = () => []) => {
      const made = [];
      for (let i = 0; i < count; i += 1) made.push(await createDeviceUser(app, devices(i)));
      return made;
    };
    const smsUsers = await users(12);
    const whatsappUsers = await users(5);
    const pushUsers = await users(7, (i) => [[`budget-${i}`, "android"]]);

    // The burst begins now: no grant of it can be earlier (the warm-up's are, and arrived before).
    const since = Date.now();
    const requests = await Promise.all([
      ...smsUsers.map((u) => sendOrder(app, u.id, "sms")),
      ...whatsappUsers.map((u) => sendOrder(app, u.id, "whatsapp")),
      ...pushUsers.map((u) => sendOrder(app, u.id, "push")),
    ]);

    await waitFor(() => twilio.received.length === 3 + 17 && fcm.received.length === 1 + 7, { timeoutMs: 60_000, what: "every message" });
    const burst = twilio.sends.filter((s) => s.at >= since);
    const sms = burst.filter((s) => !s.to.startsWith("whatsapp:")).map((s) => s.at);
    const whatsapp = burst.filter((s) => s.to.startsWith("whatsapp:")).map((s) => s.at);
    const push = fcm.sends.filter((s) => s.at >= since).map((s) => s.at);
    expect([sms.length, whatsapp.length, push.length]).toEqual([12, 5, 7]);
    // Judged on the grants' spacing, which load cannot compress (see earlierThanBudget): the k-th
    // arrival of a burst is at least k intervals after it began. Two replicas share each budget;
    // one per process would let twice the rate through and break this.
    expect(earlierThanBudget(sms, since, SMS_RATE)).toEqual([]);
    expect(earlierThanBudget(whatsapp, since, WHATSAPP_RATE)).toEqual([]);
    expect(earlierThanBudget(push, since, PUSH_RATE)).toEqual([]);
    // One budget per channel is checked by the budgets' names above (twilio:sms, twilio:whatsapp):
    // that WhatsApp did not wait behind SMS could only be shown with a timing window.

    for (const requestId of requests) {
      const status = await statusOf(app, requestId);
      // With each attempt's error, so that a failure says what went wrong.
      const { status: state, attempts, errors } = status.deliveries[0]!;
      expect({ request_id: requestId, state, attempts, errors }).toEqual({ request_id: requestId, state: "sent", attempts: 1, errors: [] });
    }
  });
});
