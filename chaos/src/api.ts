import { API_KEY, GATEWAY } from "./system";

/**
 * What a client saw: an HTTP status, or why there was none: `refused` (nothing listened: ECONNREFUSED),
 * `reset` (the connection died with the request on it), `timeout` (no answer in time), `error`.
 */
export type Answer = number | "refused" | "reset" | "timeout" | "error";

export interface ApiResult {
  answer: Answer;
  body: unknown;
}

/** Classifies a failed fetch (undici puts the socket's error code in `cause`). */
export function networkAnswer(error: unknown): Answer {
  const e = error as { name?: string; cause?: { code?: string; name?: string } };
  if (e.name === "TimeoutError" || e.cause?.name === "TimeoutError" || e.cause?.code === "UND_ERR_HEADERS_TIMEOUT") return "timeout";
  const code = e.cause?.code ?? "";
  if (code === "ECONNREFUSED") return "refused";
  if (["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"].includes(code)) return "reset";
  return "error";
}

/** One call to the gateway with the drill's key; never throws for a network failure (it is an answer). */
export async function call(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<ApiResult> {
  try {
    const response = await fetch(`${GATEWAY}${path}`, {
      method,
      headers: { "X-API-Key": API_KEY, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { answer: response.status, body: parsed };
  } catch (error) {
    return { answer: networkAnswer(error), body: undefined };
  }
}

/** A call that must succeed (setting a drill up): throws with what came back otherwise. */
export async function must<T>(method: string, path: string, body: unknown, expected: number[]): Promise<T> {
  const result = await call(method, path, body);
  if (typeof result.answer !== "number" || !expected.includes(result.answer)) {
    throw new Error(`${method} ${path}: ${String(result.answer)} ${JSON.stringify(result.body).slice(0, 500)}`);
  }
  return (result.body as { data: T }).data;
}
