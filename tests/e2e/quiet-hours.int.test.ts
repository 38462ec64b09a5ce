import request from "supertest";
import { queueOf } from "@herald/channels";
import { sleep, waitFor } from "@herald/testkit";
import { deliveriesOf, emailWorld, wallTime } from "../support/gateway";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startEmailWorker, statusOf } from "../support/system";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const floorMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

describe("quiet hours hold a delivery until the window ends in the user's time zone", () => {
  const w = emailWorld({ SCHEDULER_INTERVAL: "200ms" });
  beforeAll(async () => {
    await createWelcomeTemplate(w.app);
    await startEmailWorker(w.env, w.smtp.port);
  });

  it("holds a send made inside quiet hours and sends it when they end; critical goes at once", async () => {
    // A window in Kolkata (UTC+05:30) that started a few minutes ago and ends at the next minute.
    if (Date.now() % MINUTE > 55_000) await sleep(MINUTE - (Date.now() % MINUTE) + 100);
    const end = floorMinute(Date.now()) + MINUTE;
    const timezone = "Asia/Kolkata";
    const quiet = { start: wallTime(new Date(end - 3 * MINUTE), timezone), end: wallTime(new Date(end), timezone), timezone };
    const user = await createUser(w.app, { preferences: { quiet_hours: quiet } });

    const critical = await sendEmail(w.app, user.id, { priority: "critical", variables: { name: "critical" } });
    expect(critical.status).toBe(202);
    expect(critical.body.data).toMatchObject({ status: "queued", deliveries: [{ status: "queued" }] });

    const res = await sendEmail(w.app, user.id, { variables: { name: "held" } });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ status: "held", deliveries: [{ status: "held", release_at: new Date(end).toISOString() }] });
    const requestId = res.body.data.request_id as string;

    const criticalMail = await waitFor(() => w.smtp.received.find((m) => m.subject === "Welcome, critical!"), { what: "the critical mail" });
    expect(criticalMail.at).toBeLessThan(end);
    if (Date.now() < end - 500) {
      const [held] = await deliveriesOf(w.env, requestId);
      expect(held!.status).toBe("held");
      expect(await w.env.queueDepth(queueOf("email"))).toBe(0);
    }

    const heldMail = await waitFor(() => w.smtp.received.find((m) => m.subject === "Welcome, held!"), { what: "the held mail", timeoutMs: 75_000 });
    expect(heldMail.at).toBeGreaterThanOrEqual(end);
    expect(heldMail.to).toBe(user.email);
    await waitFor(async () => (await statusOf(w.app, requestId)).status === "sent");
  }, 100_000);

  it("holds a scheduled send whose send_at falls inside quiet hours until they end; cancel still works", async () => {
    const now = Date.now();
    const windowStart = floorMinute(now + 2 * HOUR);
    const windowEnd = floorMinute(now + 4 * HOUR);
    const quiet = { start: wallTime(new Date(windowStart), "UTC"), end: wallTime(new Date(windowEnd), "UTC"), timezone: "UTC" };
    const user = await createUser(w.app);
    const prefs = await request(w.app).put(`/users/${user.id}/preferences`).set(AUTH).send({ quiet_hours: quiet });
    expect(prefs.status).toBe(200);

    // Now is outside the window: queued as usual.
    const now1 = await sendEmail(w.app, user.id);
    expect(now1.body.data.status).toBe("queued");

    const inside = await sendEmail(w.app, user.id, { send_at: new Date(now + 3 * HOUR).toISOString() });
    expect(inside.status).toBe(202);
    expect(inside.body.data).toMatchObject({ status: "held", deliveries: [{ status: "held", release_at: new Date(windowEnd).toISOString() }] });

    const after = new Date(now + 5 * HOUR);
    const outside = await sendEmail(w.app, user.id, { send_at: after.toISOString() });
    expect(outside.body.data).toMatchObject({ status: "scheduled", deliveries: [{ status: "scheduled", release_at: after.toISOString() }] });

    const criticalInside = await sendEmail(w.app, user.id, { send_at: new Date(now + 3 * HOUR).toISOString(), priority: "critical" });
    expect(criticalInside.body.data).toMatchObject({ status: "scheduled", deliveries: [{ release_at: new Date(now + 3 * HOUR).toISOString() }] });

    const cancelled = await request(w.app).post(`/notifications/${inside.body.data.request_id}/cancel`).set(AUTH);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.deliveries[0].status).toBe("cancelled");
  });
});
