import type { Send } from "./load";

/** A delivery's status through GET /notifications/:request_id (undefined: the API did not say). */
export interface ApiStatus {
  status: string;
  lastErrorCode: string | null;
}

/** Statuses after which nothing more happens to a delivery. */
export const FINAL = new Set(["sent", "dead_lettered", "failed", "suppressed", "cancelled"]);

export interface ChannelTally {
  accepted: number;
  delivered: number;
  /** Deliveries the receiver got more than once. */
  twice: number;
  /** How many of those the on-the-wire policy allows in this drill. */
  twiceAllowed: number;
  deadLettered: Record<string, number>;
  lost: number;
  stuck: number;
  wrongStatus: number;
}

export interface Tally extends ChannelTally {
  sent: number;
  /** Answers other than 202, by status (or refused, reset, timeout, error). */
  answers: Record<string, number>;
  /** Seconds from the end of the fault to the next delivery at a receiver. */
  firstAfterFaultS: number | null;
  /** Seconds from the end of the fault until the last accepted delivery arrived (null while any is stuck). */
  drainedS: number | null;
  byChannel: Record<string, ChannelTally>;
  /** A few delivery ids of each kind of failure, for the evidence. */
  samples: { lost: string[]; stuck: string[]; twice: string[]; wrongStatus: string[] };
}

function emptyChannel(allowed: number): ChannelTally {
  return { accepted: 0, delivered: 0, twice: 0, twiceAllowed: allowed, deadLettered: {}, lost: 0, stuck: 0, wrongStatus: 0 };
}

const SAMPLES = 10;

/**
 * The drill's count, at the receiving end and through the API:
 * - delivered: accepted deliveries a receiver got at least once; twice: more than once;
 * - dead-lettered: the API says dead_lettered (by last_error_code);
 * - lost: accepted, never received and not dead-lettered (a stuck one that never arrived is lost too);
 * - stuck: not in a final status when the drill's deadline passed;
 * - wrong status: the API contradicts the receiver (dead-lettered or failed but received; sent but never received).
 */
export function tally(
  sends: Send[],
  receipts: Map<string, number[]>,
  statuses: Map<string, ApiStatus>,
  faultEnd: number,
  allowance: Partial<Record<string, number>>,
): Tally {
  const answers: Record<string, number> = {};
  const byChannel: Record<string, ChannelTally> = {};
  const samples: Tally["samples"] = { lost: [], stuck: [], twice: [], wrongStatus: [] };
  const note = (kind: keyof Tally["samples"], id: string) => {
    if (samples[kind].length < SAMPLES) samples[kind].push(id);
  };
  let firstAfter: number | undefined;
  let lastArrival = -Infinity;
  let anyStuck = false;

  for (const send of sends) {
    if (send.answer !== 202) answers[String(send.answer)] = (answers[String(send.answer)] ?? 0) + 1;
    if (send.answer !== 202 || !send.deliveryId) continue;
    const c = (byChannel[send.channel] ??= emptyChannel(allowance[send.channel] ?? 0));
    const id = send.deliveryId;
    const times = receipts.get(id) ?? [];
    const api = statuses.get(id);
    c.accepted += 1;
    if (times.length > 0) c.delivered += 1;
    if (times.length > 1) {
      c.twice += 1;
      note("twice", id);
    }
    for (const t of times) if (t >= faultEnd && (firstAfter === undefined || t < firstAfter)) firstAfter = t;
    if (times.length > 0) lastArrival = Math.max(lastArrival, Math.min(...times));
    const deadLettered = api?.status === "dead_lettered";
    if (deadLettered) c.deadLettered[api.lastErrorCode ?? "unknown"] = (c.deadLettered[api.lastErrorCode ?? "unknown"] ?? 0) + 1;
    if (!api || !FINAL.has(api.status)) {
      c.stuck += 1;
      anyStuck = true;
      note("stuck", id);
    }
    if (times.length === 0 && !deadLettered) {
      c.lost += 1;
      note("lost", id);
    }
    const contradicts = times.length > 0 ? api?.status === "dead_lettered" || api?.status === "failed" : api?.status === "sent";
    if (contradicts) {
      c.wrongStatus += 1;
      note("wrongStatus", id);
    }
  }

  const channels = Object.values(byChannel);
  const sum = (f: (c: ChannelTally) => number) => channels.reduce((n, c) => n + f(c), 0);
  const deadLettered: Record<string, number> = {};
  for (const c of channels) for (const [code, n] of Object.entries(c.deadLettered)) deadLettered[code] = (deadLettered[code] ?? 0) + n;
  return {
    sent: sends.length,
    answers,
    accepted: sum((c) => c.accepted),
    delivered: sum((c) => c.delivered),
    twice: sum((c) => c.twice),
    twiceAllowed: sum((c) => c.twiceAllowed),
    deadLettered,
    lost: sum((c) => c.lost),
    stuck: sum((c) => c.stuck),
    wrongStatus: sum((c) => c.wrongStatus),
    firstAfterFaultS: firstAfter === undefined ? null : (firstAfter - faultEnd) / 1000,
    drainedS: anyStuck ? null : Math.max(0, (lastArrival - faultEnd) / 1000),
    byChannel,
    samples,
  };
}

/** Why a tally fails the drill: any lost, stuck, wrong status, or delivered twice beyond a channel's allowance. */
export function failures(t: Tally): string[] {
  const out: string[] = [];
  if (t.lost > 0) out.push(`${t.lost} lost`);
  if (t.stuck > 0) out.push(`${t.stuck} stuck`);
  if (t.wrongStatus > 0) out.push(`${t.wrongStatus} with a status that contradicts the receiver`);
  for (const [channel, c] of Object.entries(t.byChannel)) {
    if (c.twice > c.twiceAllowed) out.push(`${channel}: ${c.twice} delivered twice (allowed ${c.twiceAllowed})`);
  }
  return out;
}

/** When the answers other than 202 were sent, relative to `since` (s): "timeout: 69 sent from -0.4 s to +13.2 s". */
export function answerWindows(sends: Send[], since: number): string[] {
  const by = new Map<string, number[]>();
  for (const s of sends) {
    if (s.answer === 202) continue;
    const key = String(s.answer);
    by.set(key, [...(by.get(key) ?? []), (s.at - since) / 1000]);
  }
  const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)} s`;
  return [...by].map(([answer, times]) => `${answer}: ${times.length} sent from ${signed(Math.min(...times))} to ${signed(Math.max(...times))} (relative to the fault's end)`);
}
