import type { UserProfile } from "@herald/users";
import { channelStatus } from "./accept";

const user = (overrides: Partial<UserProfile["preferences"]> = {}, email: string | null = "ada@example.com"): UserProfile => ({
  id: "0190a0b0-0000-7000-8000-000000000001",
  external_id: null,
  name: "Ada",
  email,
  phone: null,
  language: "en",
  timezone: "UTC",
  webhook_url: null,
  slack_webhook_url: null,
  preferences: {
    email_enabled: true,
    push_enabled: true,
    sms_enabled: true,
    whatsapp_enabled: true,
    webhook_enabled: true,
    slack_enabled: true,
    language: "en",
    timezone: "UTC",
    quiet_hours: null,
    ...overrides,
  },
  devices: [],
  created_at: "2026-12-01T00:00:00.000Z",
  updated_at: "2026-12-01T00:00:00.000Z",
});

const NOON = Date.parse("2026-12-01T12:00:00.000Z");
const send = { priority: "normal" as const, variables: { name: "Ada" } };

describe("channelStatus (accept's decision per channel, a pure function)", () => {
  it("queues a deliverable channel now, schedules it at send_at", () => {
    expect(channelStatus(user(), "email", send, NOON)).toEqual({ status: "queued", release_at: null, last_error: null, last_error_code: null, variables: null });
    expect(channelStatus(user(), "email", { ...send, send_at: "2026-12-02T09:00:00Z" }, NOON)).toMatchObject({ status: "scheduled", release_at: "2026-12-02T09:00:00.000Z" });
  });

  it("suppresses a disabled channel and fails one without an address", () => {
    expect(channelStatus(user({ email_enabled: false }), "email", send, NOON)).toMatchObject({ status: "suppressed", last_error_code: "suppressed" });
    expect(channelStatus(user({}, null), "email", send, NOON)).toMatchObject({ status: "failed", last_error_code: "channel_not_available" });
  });

  it("holds a send inside quiet hours until they end, unless it is critical", () => {
    const quiet = user({ quiet_hours: { start: "11:00", end: "13:00", timezone: "UTC" } });
    expect(channelStatus(quiet, "email", send, NOON)).toMatchObject({ status: "held", release_at: "2026-12-01T13:00:00.000Z" });
    expect(channelStatus(quiet, "email", { ...send, priority: "critical" }, NOON)).toMatchObject({ status: "queued" });
  });

  it("sends a critical digest send at once, as a digest of one", () => {
    const decided = channelStatus(user(), "email", { ...send, priority: "critical", digest: { window: 600_000, first: "batched" as const } }, NOON);
    expect(decided.status).toBe("queued");
    expect(decided.variables).toMatchObject({ count: 1 });
  });
});
