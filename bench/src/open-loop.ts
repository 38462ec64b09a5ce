// An open-loop load: sends start on a fixed schedule (rate per second), whether or not earlier
// ones have been answered, so a slow answer cannot slow the load down and hide itself (a closed
// loop such as autocannon's measures only as fast as it is answered). Latency is taken from the
// scheduled start; a start the timer made more than LATE_MS after its time is counted as late.
import http from "node:http";
import { API_KEY } from "./environment";
import { percentile } from "./report";

const LATE_MS = 5;

export interface OpenLoopSend {
  /** The mark the mail's subject carries ("m<run>-<i>"), to find it at the sink. */
  mark: string;
  /** Scheduled start, and when the 202 came (ms since the epoch); answeredAt 0: no 202. */
  scheduledAt: number;
  answeredAt: number;
  status: number;
}

export interface OpenLoopResult {
  sends: OpenLoopSend[];
  rate: number;
  seconds: number;
  late: number;
  maxLateMs: number;
  accepted: number;
  refused: number;
  errors: number;
  acceptP50Ms: number;
  acceptP99Ms: number;
  acceptMaxMs: number;
}

/** `rate` sends/s for `seconds` to POST /notifications/send, each to the next user, each marked. */
export async function openLoop(gatewayUrl: string, userIds: string[], rate: number, seconds: number): Promise<OpenLoopResult> {
  const url = new URL(`${gatewayUrl}/notifications/send`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const run = Date.now().toString(36);
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const sends: OpenLoopSend[] = [];
  let late = 0;
  let maxLateMs = 0;
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const start = Date.now() + 50;

  const fire = (i: number, scheduledAt: number) => {
    const send: OpenLoopSend = { mark: `m${run}-${i}`, scheduledAt, answeredAt: 0, status: 0 };
    sends.push(send);
    const body = JSON.stringify({ user_id: userIds[i % userIds.length], channel: "email", template_id: "welcome_email", variables: { name: send.mark } });
    inFlight.push(
      new Promise<void>((resolve) => {
        const req = http.request(
          url,
          { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-api-key": API_KEY } },
          (res) => {
            res.resume();
            res.on("end", () => {
              send.status = res.statusCode ?? 0;
              if (send.status === 202) send.answeredAt = Date.now();
              resolve();
            });
          },
        );
        req.on("error", () => {
          errors += 1;
          resolve();
        });
        req.end(body);
      }),
    );
  };

  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = Date.now();
      while (next < total && start + next * interval <= now) {
        const scheduledAt = start + next * interval;
        const lateBy = now - scheduledAt;
        if (lateBy > LATE_MS) late += 1;
        maxLateMs = Math.max(maxLateMs, lateBy);
        fire(next, scheduledAt);
        next += 1;
      }
      if (next >= total) return resolve();
      setTimeout(tick, Math.max(0, start + next * interval - Date.now()));
    };
    setTimeout(tick, 50);
  });
  await Promise.all(inFlight);
  agent.destroy();
  const accepts = sends.filter((s) => s.answeredAt > 0).map((s) => s.answeredAt - s.scheduledAt);
  return {
    sends,
    rate,
    seconds,
    late,
    maxLateMs,
    accepted: accepts.length,
    refused: sends.filter((s) => s.status !== 0 && s.status !== 202).length,
    errors,
    acceptP50Ms: percentile(accepts, 50),
    acceptP99Ms: percentile(accepts, 99),
    acceptMaxMs: Math.max(...accepts),
  };
}
