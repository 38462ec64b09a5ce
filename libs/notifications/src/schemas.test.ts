import { MAX_SCHEDULE_AHEAD_MS, sendAtProblem, sendSchema } from "./schemas";

describe("send_at", () => {
  const now = Date.parse("2026-11-23T12:00:00Z");
  it("must be in the future and at most 30 days ahead", () => {
    expect(sendAtProblem(new Date(now + 1), now)).toBeUndefined();
    expect(sendAtProblem(new Date(now + MAX_SCHEDULE_AHEAD_MS), now)).toBeUndefined();
    expect(sendAtProblem(new Date(now + MAX_SCHEDULE_AHEAD_MS + 1), now)).toBe("is more than 30 days ahead");
    expect(sendAtProblem(new Date(now), now)).toBe("is in the past");
    expect(sendAtProblem(new Date("nope"), now)).toBe("is not a valid date-time");
  });

  it("is ISO 8601 with an offset; one message per bad value, on send_at", () => {
    const base = { user_id: "u", channel: "email", template_id: "t" };
    const issues = (send_at: string) => sendSchema.safeParse({ ...base, send_at }).error?.issues.map((i) => [i.path.join("."), i.message]);
    expect(issues("2030-01-01T09:00:00")).toEqual([["send_at", "must be an ISO 8601 date-time with an offset, such as 2026-12-01T09:00:00Z"]]);
    expect(issues("2020-01-01T09:00:00+02:00")).toEqual([["send_at", "is in the past"]]);
    expect(issues(new Date(Date.now() + 60_000).toISOString())).toBeUndefined();
  });
});
