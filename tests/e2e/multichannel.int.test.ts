import request from "supertest";
import { HEADERS, PRIORITY_VALUES } from "@herald/messaging";
import { queueOf } from "@herald/channels";
import { waitFor } from "@herald/testkit";
import { drainQueue, header } from "../support/broker";
import { createMultiChannelTemplate, emailWorld, rowCounts } from "../support/gateway";
import { AUTH, createUser, startEmailWorker, statusOf } from "../support/system";

describe("channels: [...] sends one delivery per channel under one request id", () => {
  const w = emailWorld();
  beforeAll(async () => {
    await createMultiChannelTemplate(w.app, "order_update", ["email", "sms", "push"]);
    await startEmailWorker(w.env, w.smtp.port);
  });

  const send = (body: Record<string, unknown>) =>
    request(w.app).post("/notifications/send").set(AUTH).send({ template_id: "order_update", variables: { name: "Ada" }, ...body });

  it("each delivery has its own status: email sent, sms queued for its worker, push failed (no device)", async () => {
    const user = await createUser(w.app, { phone: "+14155550101" });
    const res = await send({ user_id: user.id, channels: ["email", "sms", "push"], priority: "high" });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ status: "queued", channels: ["email", "sms", "push"] });
    const answered = res.body.data.deliveries as { channel: string; status: string; reason?: string }[];
    expect(answered.map((d) => [d.channel, d.status])).toEqual([
      ["email", "queued"],
      ["sms", "queued"],
      ["push", "failed"],
    ]);
    expect(answered[2]!.reason).toContain("no push address");
    const requestId = res.body.data.request_id as string;

    await waitFor(() => w.smtp.received.find((m) => m.to === user.email), { what: "the email" });
    const status = await waitFor(async () => {
      const s = await statusOf(w.app, requestId);
      return s.deliveries.find((d) => (d as { channel?: string }).channel === "email")?.status === "sent" ? s : undefined;
    });
    const byChannel = Object.fromEntries((status.deliveries as unknown as { channel: string; status: string; last_error_code: string | null }[]).map((d) => [d.channel, d]));
    expect(byChannel.email).toMatchObject({ status: "sent" });
    expect(byChannel.sms).toMatchObject({ status: "queued" });
    expect(byChannel.push).toMatchObject({ status: "failed", last_error_code: "channel_not_available" });
    // The request is as far along as its least finished delivery.
    expect(status.status).toBe("queued");

    // The sms message waits in sms.queue with the request's id and the high priority.
    const [sms, ...more] = await drainQueue(w.env.broker, queueOf("sms"));
    expect(more).toHaveLength(0);
    expect(sms!.properties.priority).toBe(PRIORITY_VALUES.high);
    expect(header(sms!, HEADERS.requestId)).toBe(requestId);
    expect(JSON.parse(sms!.content.toString())).toMatchObject({ request_id: requestId, channel: "sms" });
  });

  it("a channel the user turned off is suppressed while the others go out", async () => {
    const user = await createUser(w.app, { phone: "+14155550102", preferences: { sms_enabled: false } });
    const res = await send({ user_id: user.id, channels: ["sms", "email"] });
    expect(res.status).toBe(202);
    expect(res.body.data.status).toBe("queued");
    const requestId = res.body.data.request_id as string;
    await waitFor(() => w.smtp.received.find((m) => m.to === user.email), { what: "the email" });
    const status = await waitFor(async () => {
      const s = await statusOf(w.app, requestId);
      return s.status === "sent" ? s : undefined;
    });
    expect((status.deliveries as unknown as { channel: string; status: string }[]).map((d) => [d.channel, d.status])).toEqual([
      ["email", "sent"],
      ["sms", "suppressed"],
    ]);
    expect(await w.env.queueDepth(queueOf("sms"))).toBe(0);
  });

  it("refuses the whole request when one channel has no variant (422) and writes nothing", async () => {
    const user = await createUser(w.app, { phone: "+14155550103", webhook_url: "https://example.com/hook" });
    const before = await rowCounts(w.env);
    const res = await send({ user_id: user.id, channels: ["email", "webhook"] });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "template_not_found", details: [{ field: "template_id", channel: "webhook" }] });
    const dup = await send({ user_id: user.id, channels: ["email", "email"] });
    expect(dup.status).toBe(400);
    expect(dup.body.error.details[0]).toMatchObject({ field: "channels", message: "lists a channel twice" });
    const empty = await send({ user_id: user.id, channels: [] });
    expect(empty.status).toBe(400);
    expect(await rowCounts(w.env)).toEqual(before);
  });
});
