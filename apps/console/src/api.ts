/**
 * The console's only way to data: the public API, with the key the operator signed in with. The
 * key lives in sessionStorage (gone when the tab closes), never in a URL.
 */
const KEY = "herald.apiKey";

export interface Envelope<T> {
  success: boolean;
  data: T;
  error: { code: string; details?: { field?: string; message: string }[] } | null;
  message: string;
  meta: { next_cursor?: string; [k: string]: unknown };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field?: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  set: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

/** Query string from the given values, leaving out empty ones. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export async function call<T>(method: string, path: string, body?: unknown, key = session.key()): Promise<Envelope<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (key) headers["X-API-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (response.status === 204) return { success: true, data: null as T, error: null, message: "done", meta: {} };
  let envelope: Envelope<T>;
  try {
    envelope = (await response.json()) as Envelope<T>;
  } catch {
    throw new ApiError(response.status, "bad_response", `${method} ${path}: HTTP ${response.status}`);
  }
  if (!response.ok || !envelope.success) {
    throw new ApiError(response.status, envelope.error?.code ?? "error", envelope.message || `HTTP ${response.status}`, envelope.error?.details ?? []);
  }
  return envelope;
}

export const get = <T>(path: string) => call<T>("GET", path).then((e) => e.data);
export const post = <T>(path: string, body: unknown = {}) => call<T>("POST", path, body);
export const put = <T>(path: string, body: unknown) => call<T>("PUT", path, body);
export const del = (path: string) => call<null>("DELETE", path);

/** A message for an error, with the fields it names. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.details.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join("; ");
    return `${error.status} ${error.code}: ${error.message}${fields ? ` (${fields})` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}
