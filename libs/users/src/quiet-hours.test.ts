import { inQuietHours, quietHoursEnd } from "./quiet-hours";

const at = (iso: string) => new Date(iso);
const endOf = (start: string, end: string, timezone: string, now: string) => quietHoursEnd({ start, end, timezone }, at(now))?.toISOString();

describe("quietHoursEnd", () => {
  it("a window within one day: inside until the end, start inclusive and end exclusive", () => {
    expect(endOf("09:00", "17:00", "UTC", "2026-06-10T08:59:59Z")).toBeUndefined();
    expect(endOf("09:00", "17:00", "UTC", "2026-06-10T09:00:00Z")).toBe("2026-06-10T17:00:00.000Z");
    expect(endOf("09:00", "17:00", "UTC", "2026-06-10T16:59:59Z")).toBe("2026-06-10T17:00:00.000Z");
    expect(endOf("09:00", "17:00", "UTC", "2026-06-10T17:00:00Z")).toBeUndefined();
  });

  it("a window across midnight ends the next local morning from the evening, the same morning after midnight", () => {
    // Paris is UTC+2 in June: 22:00-07:00 local is 20:00Z-05:00Z.
    expect(endOf("22:00", "07:00", "Europe/Paris", "2026-06-10T19:59:00Z")).toBeUndefined();
    expect(endOf("22:00", "07:00", "Europe/Paris", "2026-06-10T20:00:00Z")).toBe("2026-06-11T05:00:00.000Z");
    expect(endOf("22:00", "07:00", "Europe/Paris", "2026-06-10T23:30:00Z")).toBe("2026-06-11T05:00:00.000Z");
    expect(endOf("22:00", "07:00", "Europe/Paris", "2026-06-11T04:59:00Z")).toBe("2026-06-11T05:00:00.000Z");
    expect(endOf("22:00", "07:00", "Europe/Paris", "2026-06-11T05:00:00Z")).toBeUndefined();
    expect(endOf("22:00", "07:00", "Europe/Paris", "2026-06-11T12:00:00Z")).toBeUndefined();
  });

  it("reads the time in the window's zone, not UTC, also west of Greenwich and across a month end", () => {
    // New York is UTC-4 in summer: 23:00 local on 31 July is 03:00Z on 1 August.
    expect(endOf("22:00", "06:00", "America/New_York", "2026-08-01T03:00:00Z")).toBe("2026-08-01T10:00:00.000Z");
    expect(endOf("22:00", "06:00", "America/New_York", "2026-07-31T23:00:00Z")).toBeUndefined();
    // Kolkata is UTC+5:30; 23:50 local on 31 December is 18:20Z.
    expect(endOf("23:00", "01:00", "Asia/Kolkata", "2026-12-31T18:20:00Z")).toBe("2026-12-31T19:30:00.000Z");
  });

  it("is correct on the night clocks go forward (the night is an hour shorter)", () => {
    // Europe/Paris, 29 March 2026: 02:00 CET jumps to 03:00 CEST at 01:00Z.
    // 22:00 CET on the 28th is 21:00Z; 07:00 CEST on the 29th is 05:00Z.
    expect(endOf("22:00", "07:00", "Europe/Paris", "2026-03-28T21:00:00Z")).toBe("2026-03-29T05:00:00.000Z");
    expect(endOf("22:00", "07:00", "Europe/Paris", "2026-03-29T00:30:00Z")).toBe("2026-03-29T05:00:00.000Z");
    // An end inside the skipped hour (02:30 never shows) moves forward by the gap: 03:30 CEST = 01:30Z.
    expect(endOf("22:00", "02:30", "Europe/Paris", "2026-03-28T23:00:00Z")).toBe("2026-03-29T01:30:00.000Z");
  });

  it("is correct on the night clocks go back (the night is an hour longer)", () => {
    // Europe/Paris, 25 October 2026: 03:00 CEST goes back to 02:00 CET at 01:00Z.
    expect(endOf("22:00", "07:00", "Europe/Paris", "2026-10-24T20:00:00Z")).toBe("2026-10-25T06:00:00.000Z");
    // An end in the repeated hour: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
    expect(endOf("22:00", "02:30", "Europe/Paris", "2026-10-24T21:00:00Z")).toBe("2026-10-25T00:30:00.000Z");
    // During the second 02:00-02:30 the window is still on (the clock says so) and ends at the second 02:30.
    expect(endOf("22:00", "02:30", "Europe/Paris", "2026-10-25T01:10:00Z")).toBe("2026-10-25T01:30:00.000Z");
  });

  it("is correct where DST changes at midnight (the local day starts at 01:00; 00:30 moves to 01:30)", () => {
    // America/Santiago, 6 Sep 2026: 00:00 -04 jumps to 01:00 -03 (at 04:00Z).
    expect(endOf("23:00", "00:30", "America/Santiago", "2026-09-06T03:30:00Z")).toBe("2026-09-06T04:30:00.000Z");
  });

  it("start equal to end is no window", () => {
    expect(endOf("10:00", "10:00", "UTC", "2026-06-10T10:00:00Z")).toBeUndefined();
    expect(inQuietHours({ start: "22:00", end: "07:00", timezone: "UTC" }, at("2026-06-10T23:00:00Z"))).toBe(true);
    expect(inQuietHours({ start: "22:00", end: "07:00", timezone: "UTC" }, at("2026-06-10T12:00:00Z"))).toBe(false);
  });
});
