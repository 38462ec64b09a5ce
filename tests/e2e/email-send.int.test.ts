import request from "supertest";
import type { Express } from "express";
import { FakeSmtp, waitFor, type TestEnv } from "@herald/testkit";
import { AUTH, createUser, sendEmail, statusOf, emailWorld } from "../support/system";

describe("an email send, end to end", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;

  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ env, smtp, app, cleanup } = await emailWorld({ RETRY_BASE_DELAY_MS: "200" }));
  });

  afterAll(() => cleanup());

  it("goes from the gateway through PostgreSQL and RabbitMQ to the worker and out over SMTP", async () => {
    const user = await createUser(app, { name: "Ada Lovelace" });
    const res = await sendEmail(app, user.id, {}, { "X-Correlation-ID": "corr-e2e-1" });
    expect(res.status).toBe(202);
    expect(res.headers["x-correlation-id"]).toBe("corr-e2e-1");
    expect(res.body).toMatchObject({
      success: true,
      error: null,
      data: { status: "queued", channel: "email", correlation_id: "corr-e2e-1", remaining_requests: 99 },
    });
    const requestId = res.body.data.request_id as string;

    const mail = await waitFor(() => smtp.received.find((m) => m.to === user.email), { what: "the mail at the SMTP server" });
    expect(mail.subject).toBe("Welcome, Ada!");
    expect(mail.text).toContain("Hello Ada, welcome aboard.");
    expect(mail.html).toContain("<p>Hello Ada, welcome aboard.</p>");
    expect(mail.headers["x-correlation-id"]).toBe("corr-e2e-1");

    const status = await waitFor(async () => {
      const s = await statusOf(app, requestId);
      return s.status === "sent" ? s : undefined;
    });
    expect(status.deliveries[0]).toMatchObject({ status: "sent", attempts: 1, last_error: null });
    expect(status.deliveries[0]!.provider_message_id).toContain("@herald>");
    // The confirmed outbox row is deleted in the publisher's next flush, which may land after the mail.
    await waitFor(async () => (await env.db.prisma.outboxMessage.count()) === 0, { what: "the outbox to drain" });
    // The accept write shows in /metrics: one write carrying this send.
    const metrics = (await request(app).get("/metrics")).text;
    expect(metrics).toMatch(/^accept_written_items_total\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^accept_write_duration_seconds_count\{[^}]*\} 1$/m);
  });

  it("escapes variables in the HTML body but not in the text body", async () => {
    const user = await createUser(app);
    const res = await sendEmail(app, user.id, { variables: { name: "<b>Bob</b>" } });
    expect(res.status).toBe(202);
    const mail = await waitFor(() => smtp.received.find((m) => m.to === user.email));
    expect(mail.text).toContain("Hello <b>Bob</b>");
    expect(mail.html).toContain("Hello &lt;b&gt;Bob&lt;&#x2F;b&gt;");
  });

  it("suppresses the delivery when the user turned email off, and sends nothing", async () => {
    const user = await createUser(app);
    const prefs = await request(app).put(`/users/${user.id}/preferences`).set(AUTH).send({ email_enabled: false });
    expect(prefs.status).toBe(200);
    expect(prefs.body.data.email_enabled).toBe(false);
    const res = await sendEmail(app, user.id);
    expect(res.status).toBe(202);
    expect(res.body.data.status).toBe("suppressed");
    const status = await statusOf(app, res.body.data.request_id);
    expect(status.deliveries[0]).toMatchObject({ status: "suppressed", attempts: 0 });
    // A later mail to another user is delivered, so the worker had every chance to send this one.
    const other = await createUser(app);
    await sendEmail(app, other.id);
    await waitFor(() => smtp.received.find((m) => m.to === other.email));
    expect(smtp.received.filter((m) => m.to === user.email)).toHaveLength(0);
  });
});
