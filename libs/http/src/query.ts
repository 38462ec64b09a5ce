import { AppError } from "@herald/errors";

/** At most this many parameters are read from a query string (querystring's own default). */
const MAX_PARAMETERS = 1000;

function decode(text: string, field: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    throw AppError.validation([{ field, message: "is not valid percent-encoded UTF-8" }], "The query string does not decode");
  }
}

/**
 * The query parser of every app: `a=1&a=2&b=x` → `{ a: ["1", "2"], b: "x" }` like querystring's,
 * but strict: a key or value whose percent-encoding is not UTF-8 is 400 naming it, where
 * querystring would quietly turn it into U+FFFD (and a filter would search for that).
 */
export function parseQuery(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (!text) return out;
  const pairs = text.split("&", MAX_PARAMETERS);
  for (const pair of pairs) {
    if (pair === "") continue;
    const at = pair.indexOf("=");
    const rawKey = at < 0 ? pair : pair.slice(0, at);
    const key = decode(rawKey, "(query)");
    const value = decode(at < 0 ? "" : pair.slice(at + 1), key);
    const existing = out[key];
    out[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}
