import request from "supertest";
import type { Express } from "express";
import { createTestEnv, type TestEnv } from "@herald/testkit";
import { createMultiChannelTemplate } from "../support/gateway";
import { AUTH, createUser, startApi } from "../support/system";

interface Listed {
  request_id: string;
  status: string;
  deliveries: { channel: string; status: string }[];
}

describe("GET /notifications", () => {
  let env: TestEnv;
  let app: Express;
  let ada: { id: string };
  let bob: { id: string };
  /** Request ids in the order they were made. */
  const made: { id: string; user: string; channels: string[] }[] = [];
  let middle: string;

  const list = async (query: string) => {
    const res = await request(app).get(`/notifications?${query}`).set(AUTH);
    expect(res.status).toBe(200);
    return { ids: (res.body.data as Listed[]).map((r) => r.request_id), body: res.body as { data: Listed[]; meta: { next_cursor?: string } } };
  };
  const ids = (filter: (m: (typeof made)[number]) => boolean) =>
    made
      .filter(filter)
      .map((m) => m.id)
      .reverse();

  beforeAll(async () => {
    env = await createTestEnv();
    ({ app } = await startApi(env));
    await createMultiChannelTemplate(app, "note", ["email", "sms"]);
    ada = await createUser(app, { external_id: "ada-ext", phone: "+14155550120" });
    bob = await createUser(app, { phone: "+14155550121", preferences: { sms_enabled: false } });
    const send = async (user: string, channels: string[]) => {
      const res = await request(app).post("/notifications/send").set(AUTH).send({ user_id: user, channels, template_id: "note", variables: { name: "x" } });
      expect(res.status).toBe(202);
      made.push({ id: res.body.data.request_id as string, user, channels });
      // Ids are UUIDv7 (millisecond time first): one millisecond apart at least, so "newest first" is defined.
      await new Promise((r) => setTimeout(r, 2));
    };
    await send(ada.id, ["email"]);
    await send(bob.id, ["sms"]);
    await send(ada.id, ["email", "sms"]);
    middle = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await send(bob.id, ["email", "sms"]);
    await send(ada.id, ["sms"]);
  });

  afterAll(() => env.cleanup());

  it("lists newest first with every delivery", async () => {
    const { ids: all, body } = await list("");
    expect(all).toEqual(ids(() => true));
    expect(body.data[0]!.deliveries.map((d) => d.channel)).toEqual(["sms"]);
    expect(body.meta.next_cursor).toBeUndefined();
  });

  it("filters by user (id or external_id), status, channel and time range", async () => {
    expect((await list(`user_id=${ada.id}`)).ids).toEqual(ids((m) => m.user === ada.id));
    expect((await list("user_id=ada-ext")).ids).toEqual(ids((m) => m.user === ada.id));
    expect((await list("user_id=nobody")).ids).toEqual([]);
    expect((await list("channel=sms")).ids).toEqual(ids((m) => m.channels.includes("sms")));
    // Bob's sms deliveries are suppressed (his preference); everything else is queued.
    expect((await list("status=suppressed")).ids).toEqual(ids((m) => m.user === bob.id));
    expect((await list("status=suppressed&channel=email")).ids).toEqual([]);
    expect((await list(`status=queued&channel=sms&user_id=${ada.id}`)).ids).toEqual(ids((m) => m.user === ada.id && m.channels.includes("sms")));
    expect((await list(`from=${encodeURIComponent(middle)}`)).ids).toEqual(ids(() => true).slice(0, 2));
    expect((await list(`to=${encodeURIComponent(middle)}`)).ids).toEqual(ids(() => true).slice(2));
  });

  it("pages with limit and cursor until next_cursor is gone", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { ids: page, body } = await list(`limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page);
      cursor = body.meta.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids(() => true));
    const filtered = await list(`limit=1&user_id=${bob.id}`);
    const next = await list(`limit=1&user_id=${bob.id}&cursor=${filtered.body.meta.next_cursor}`);
    expect([...filtered.ids, ...next.ids]).toEqual(ids((m) => m.user === bob.id));
    expect(next.body.meta.next_cursor).toBeUndefined();
  });

  it("400 naming the field for a bad filter", async () => {
    const cases: [string, string][] = [
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["status=lost", "status"],
      ["channel=pigeon", "channel"],
      ["from=yesterday", "from"],
      [`from=${encodeURIComponent(middle)}&to=${encodeURIComponent(middle)}`, "to"],
      ["cursor=not-a-cursor", "cursor"],
      ["colour=red", "(body)"],
    ];
    for (const [query, field] of cases) {
      const res = await request(app).get(`/notifications?${query}`).set(AUTH);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });
});
