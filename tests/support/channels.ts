import request from "supertest";
import type { Express } from "express";
import { startChannelWorker, type DeliveryWorker } from "@herald/delivery";
import type { Runtime } from "@herald/runtime";
import { waitFor, type FakeFcm, type FakeTwilio, type TestEnv } from "@herald/testkit";
import { AUTH, statusOf } from "./system";

export const SMS_FROM = "+15005550006";

/** A breaker that opens after 3 failures for 1.5 s, with retries to spare, for breaker tests. */
export const BREAKER_TEST_ENV = {
  RETRY_BASE_DELAY_MS: "100",
  MAX_RETRY_ATTEMPTS: "20",
  CIRCUIT_BREAKER_FAILURE_THRESHOLD: "3",
  CIRCUIT_BREAKER_RECOVERY_TIMEOUT: "3000ms",
};
export const WHATSAPP_FROM = "+14155238886";

/** A push worker (in this process): FCM through the fake when given one, else the sandbox. */
export async function startPushWorker(
  env: TestEnv,
  fcm?: FakeFcm,
  overrides: Record<string, string> = {},
): Promise<{ worker: DeliveryWorker; runtime: Runtime }> {
  const runtime = await env.openRuntime("push-worker", { ...(fcm ? { FIREBASE_SERVICE_ACCOUNT: fcm.serviceAccountJson } : {}), ...overrides });
  const worker = await startChannelWorker(runtime, ["push"], fcm ? { httpsAgent: fcm.agent } : {});
  return { worker, runtime };
}

/** The Twilio settings of a fake, for a worker and for a gateway that must know sms is real. */
export function twilioEnv(twilio: FakeTwilio): Record<string, string> {
  return twilio.env({ TWILIO_FROM: SMS_FROM, TWILIO_WHATSAPP_FROM: WHATSAPP_FROM });
}

/** An SMS worker (in this process): Twilio through the fake when given one, else the sandbox. */
export async function startSmsWorker(
  env: TestEnv,
  twilio?: FakeTwilio,
  overrides: Record<string, string> = {},
): Promise<{ worker: DeliveryWorker; runtime: Runtime }> {
  const runtime = await env.openRuntime("sms-worker", { ...(twilio ? twilioEnv(twilio) : {}), ...overrides });
  const worker = await startChannelWorker(runtime, ["sms", "whatsapp"], twilio ? { httpsAgent: twilio.agent } : {});
  return { worker, runtime };
}

let counter = 0;

/** A user with a phone number and these push devices, created through the gateway. */
export async function createDeviceUser(
  app: Express,
  devices: [token: string, platform: "android" | "ios" | "web"][] = [],
  fields: Record<string, unknown> = {},
): Promise<{ id: string; phone: string }> {
  counter += 1;
  const phone = `+1415555${String(1000 + (counter % 9000)).padStart(4, "0")}`;
  const res = await request(app).post("/users").set(AUTH).send({ name: "Ada", phone, ...fields });
  if (res.status !== 201) throw new Error(`user not created: ${res.status} ${JSON.stringify(res.body)}`);
  const id = res.body.data.id as string;
  for (const [token, platform] of devices) {
    const device = await request(app).post(`/users/${id}/devices`).set(AUTH).send({ token, platform });
    if (device.status >= 300) throw new Error(`device not registered: ${device.status} ${JSON.stringify(device.body)}`);
  }
  return { id, phone: (res.body.data.phone as string | null) ?? phone };
}

/** The push, sms and whatsapp variants of one template, created through the gateway. */
export async function createChannelTemplates(app: Express, templateId = "order_shipped"): Promise<void> {
  const variants = [
    {
      channel: "push",
      title: "Order {{order}} shipped",
      body_text: "Hi {{name}}, order {{order}} is on its way.",
      data: { order_id: "{{order}}", screen: "orders" },
      image: "https://cdn.example.com/orders/{{order}}.png",
    },
    { channel: "sms", body_text: "Hi {{name}}, order {{order}} shipped." },
    { channel: "whatsapp", body_text: "Hi {{name}}, order *{{order}}* shipped." },
  ];
  for (const variant of variants) {
    const res = await request(app)
      .post("/templates")
      .set(AUTH)
      .send({ template_id: templateId, name: "Order shipped", variables: ["name", "order"], ...variant });
    if (res.status !== 201) throw new Error(`template not created: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** Sends the order_shipped template on one channel; answers the request id. */
export async function sendOrder(app: Express, userId: string, channel: "push" | "sms" | "whatsapp", order = "42", extra: Record<string, unknown> = {}): Promise<string> {
  const res = await request(app)
    .post("/notifications/send")
    .set(AUTH)
    .send({ user_id: userId, channel, template_id: "order_shipped", variables: { name: "Ada", order }, ...extra });
  if (res.status !== 202) throw new Error(`send not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.request_id as string;
}

/** The devices the user has now, through the gateway. */
export async function devicesOf(app: Express, userId: string): Promise<string[]> {
  const res = await request(app).get(`/users/${userId}`).set(AUTH);
  return (res.body.data.devices as { token: string }[]).map((d) => d.token);
}

/** Waits until every request's (only) delivery is sent, and checks none used more than `maxAttempts`. */
export async function expectAllSent(app: Express, requestIds: readonly string[], maxAttempts: number): Promise<void> {
  for (const [i, requestId] of requestIds.entries()) {
    const status = await waitFor(
      async () => {
        const s = await statusOf(app, requestId);
        return s.deliveries[0]?.status === "sent" ? s : undefined;
      },
      { timeoutMs: 10_000, what: `request ${i} sent` },
    );
    if (status.deliveries[0]!.attempts > maxAttempts) throw new Error(`request ${i} took ${status.deliveries[0]!.attempts} attempts`);
  }
}
