import autocannon from "autocannon";
import { API_KEY } from "./environment";

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  errors: number;
}

/** autocannon, 50 connections, every request to another user so the per-user limit never bites. */
export async function load(url: string, userIds: string[], durationS: number, connections = 50): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    requests: [
      {
        method: "POST",
        path: "/notifications/send",
        headers: { "content-type": "application/json", "x-api-key": API_KEY },
        setupRequest: (request) => {
          next = (next + 1) % userIds.length;
          return {
            ...request,
            body: JSON.stringify({ user_id: userIds[next], channel: "email", template_id: "welcome_email", variables: { name: "Ada" } }),
          };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
