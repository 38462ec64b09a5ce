import request from "supertest";
import { queueOf } from "@herald/channels";
import { waitFor } from "@herald/testkit";
import { emailWorld } from "../support/gateway";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startEmailWorker, statusOf } from "../support/system";

describe("messages wait in the queue while no worker runs", () => {
  const w = emailWorld({ WORKER_PREFETCH: "1" });
  beforeAll(() => createWelcomeTemplate(w.app));

  it("a higher priority overtakes lower ones already queued: critical, high, normal (in order), low", async () => {
    const user = await createUser(w.app);
    const sends: [string, string][] = [
      ["low", "low"],
      ["normal", "normal-1"],
      ["normal", "normal-2"],
      ["high", "high"],
      ["critical", "critical"],
    ];
    for (const [priority, name] of sends) {
      const res = await sendEmail(w.app, user.id, { priority, variables: { name } });
      expect(res.status).toBe(202);
      expect(res.body.data.status).toBe("queued");
    }
    await waitFor(async () => (await w.env.queueDepth(queueOf("email"))) === 5, { what: "five messages in email.queue" });

    // One message in flight at a time (WORKER_PREFETCH=1): the broker hands out the highest first.
    const worker = await startEmailWorker(w.env, w.smtp.port);
    await waitFor(() => w.smtp.received.filter((m) => m.to === user.email).length === 5, { what: "five mails" });
    expect(w.smtp.received.filter((m) => m.to === user.email).map((m) => m.subject)).toEqual([
      "Welcome, critical!",
      "Welcome, high!",
      "Welcome, normal-1!",
      "Welcome, normal-2!",
      "Welcome, low!",
    ]);
    await worker.runtime.releasers.releaseAll();
  });

  it("a channel turned off between accept and send is suppressed at send time: the later choice wins", async () => {
    const user = await createUser(w.app);
    const res = await sendEmail(w.app, user.id);
    expect(res.status).toBe(202);
    expect(res.body.data.status).toBe("queued");
    const requestId = res.body.data.request_id as string;
    await waitFor(async () => (await w.env.queueDepth(queueOf("email"))) === 1, { what: "the message in email.queue" });

    const prefs = await request(w.app).put(`/users/${user.id}/preferences`).set(AUTH).send({ email_enabled: false });
    expect(prefs.status).toBe(200);

    const other = await createUser(w.app);
    await startEmailWorker(w.env, w.smtp.port);
    const status = await waitFor(async () => {
      const s = await statusOf(w.app, requestId);
      return s.status === "suppressed" ? s : undefined;
    });
    expect(status.deliveries[0]).toMatchObject({ status: "suppressed", last_error_code: "suppressed" });
    expect(status.deliveries[0]!.last_error).toContain("disabled");
    // The worker is running and sends to others; this user got nothing.
    await sendEmail(w.app, other.id);
    await waitFor(() => w.smtp.received.find((m) => m.to === other.email), { what: "the other user's mail" });
    expect(w.smtp.received.filter((m) => m.to === user.email)).toHaveLength(0);
    expect(await w.env.queueDepth(queueOf("email"))).toBe(0);
  });
});
