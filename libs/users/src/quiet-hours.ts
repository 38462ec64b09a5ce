import type { QuietHours } from "./profile";

/*
 * Quiet hours are wall-clock times in a time zone ("22:00" to "07:00" in Europe/Paris), so the
 * instant a window ends depends on that zone's offset on that day. Intl gives us the offset of any
 * instant in any IANA zone; converting a wall-clock time back to an instant is the small part
 * written here (no date library is installed, and this is all we need of one). Local times that do
 * not exist (the hour skipped when clocks go forward) or exist twice (the hour repeated when they go
 * back) are resolved like Temporal's "compatible" disambiguation: a skipped time moves forward by the
 * length of the gap, a repeated one takes its first occurrence that is still ahead.
 */

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  /** Minutes since local midnight. */
  minutes: number;
  second: number;
}

function wallClock(instant: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    minutes: (parts.hour ?? 0) * 60 + (parts.minute ?? 0),
    second: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in milliseconds (Paris in summer: +7,200,000). */
function offsetAt(instant: number, timeZone: string): number {
  const wall = wallClock(instant, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, 0, wall.minutes, wall.second);
  return asUtc - (instant - (((instant % 1000) + 1000) % 1000));
}

/**
 * The instants at which the zone's clocks show this local date and time, earliest first: one
 * normally, two in a repeated hour; in a skipped hour, the one instant the gap shifts it to.
 */
function instantsOf(year: number, month: number, day: number, minutes: number, timeZone: string): number[] {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  const offsets = [...new Set([offsetAt(wall - DAY_MS, timeZone), offsetAt(wall, timeZone), offsetAt(wall + DAY_MS, timeZone)])];
  const valid = offsets.map((o) => wall - o).filter((t) => offsetAt(t, timeZone) === wall - t);
  if (valid.length > 0) return [...new Set(valid)].sort((a, b) => a - b);
  // Skipped by a clock change: the offset in force before the change gives the later instant.
  return [Math.max(...offsets.map((o) => wall - o))];
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

/**
 * When the quiet-hours window that contains `now` ends, or undefined when `now` is outside the
 * window. Start is inclusive, end exclusive; a window whose end is before its start crosses
 * midnight (22:00-07:00). Times are read in `quiet.timezone` and are correct across DST changes.
 */
export function quietHoursEnd(quiet: QuietHours, now: Date): Date | undefined {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return undefined;
  const instant = now.getTime();
  const local = wallClock(instant, quiet.timezone);
  const m = local.minutes;
  let endsOnDay: { year: number; month: number; day: number };
  if (start < end) {
    if (m < start || m >= end) return undefined;
    endsOnDay = local;
  } else if (m >= start) {
    // Inside the evening part: the window ends tomorrow (the calendar day after, in this zone).
    const tomorrow = new Date(Date.UTC(local.year, local.month - 1, local.day + 1));
    endsOnDay = { year: tomorrow.getUTCFullYear(), month: tomorrow.getUTCMonth() + 1, day: tomorrow.getUTCDate() };
  } else if (m < end) {
    endsOnDay = local;
  } else {
    return undefined;
  }
  const candidates = instantsOf(endsOnDay.year, endsOnDay.month, endsOnDay.day, end, quiet.timezone);
  const ahead = candidates.find((t) => t > instant) ?? candidates[candidates.length - 1]!;
  return new Date(ahead);
}

/** Whether `now` is inside the quiet-hours window. */
export function inQuietHours(quiet: QuietHours, now: Date): boolean {
  return quietHoursEnd(quiet, now) !== undefined;
}
