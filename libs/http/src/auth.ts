import { createHash, timingSafeEqual } from "node:crypto";
import type { Request, RequestHandler } from "express";
import { AppError } from "@herald/errors";

const digest = (key: string) => createHash("sha256").update(key).digest();

/** A short, stable, non-secret name for a key (from its digest): scopes idempotency keys, shows in logs and the audit log. */
const keyId = (keyDigest: Buffer) => keyDigest.toString("hex").slice(0, 12);

/** What a key may do: everything, or only read. */
export type KeyRole = "admin" | "read";

/** Who is calling, as the auth middleware leaves it in res.locals.apiKey. */
export interface CallerKey {
  /** The first 12 hex digits of the key's SHA-256: never the key. */
  id: string;
  role: KeyRole;
}

export interface ApiKeyOptions {
  /** Keys (of `keys`) that may only read: any other method than GET/HEAD/OPTIONS is 403 forbidden. */
  readOnlyKeys?: readonly string[];
  /** POST paths that only read (a preview renders, it writes nothing): allowed to read-only keys. */
  readOnlyPosts?: readonly RegExp[];
}

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** True when the request changes nothing (what a read-only key may do). */
function isRead(req: Request, readOnlyPosts: readonly RegExp[]): boolean {
  if (READS.has(req.method)) return true;
  // The full path: behind a mounted middleware (the gateway's proxies) req.path is relative to the mount.
  const path = req.originalUrl.split("?")[0] ?? "";
  return req.method === "POST" && readOnlyPosts.some((pattern) => pattern.test(path));
}

/**
 * API-key authentication: `X-API-Key: <key>` or `Authorization: Bearer <key>`. Keys are compared
 * as SHA-256 digests in constant time. Sets res.locals.apiKey ({ id, role }) and
 * res.locals.apiKeyId; a read-only key's write (a send included) is 403 forbidden, here, before
 * any route runs, so no route can forget the check.
 */
export function requireApiKey(keys: readonly string[], options: ApiKeyOptions = {}): RequestHandler {
  const readOnly = new Set((options.readOnlyKeys ?? []).map((k) => digest(k).toString("hex")));
  const known = keys.map((key) => {
    const d = digest(key);
    const role: KeyRole = readOnly.has(d.toString("hex")) ? "read" : "admin";
    return { digest: d, role };
  });
  const readOnlyPosts = options.readOnlyPosts ?? [];
  return (req, res, next) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.get("authorization") ?? "")?.[1];
    const key = req.get("x-api-key") ?? bearer;
    if (!key) throw new AppError("unauthorized", "Missing API key: send X-API-Key or Authorization: Bearer");
    const given = digest(key.trim());
    // Compare with every key (no early exit), so the time taken does not say which one matched.
    let match: (typeof known)[number] | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, given)) match ??= k;
    if (!match) throw new AppError("unauthorized", "Invalid API key");
    const caller: CallerKey = { id: keyId(given), role: match.role };
    res.locals.apiKey = caller;
    res.locals.apiKeyId = caller.id;
    if (caller.role === "read" && !isRead(req, readOnlyPosts)) {
      throw new AppError("forbidden", "This API key is read-only: it cannot send, change or delete anything");
    }
    next();
  };
}

/** The caller's key as the auth middleware recorded it (routes behind requireApiKey only). */
export function callerOf(res: { locals: Record<string, unknown> }): CallerKey {
  const caller = res.locals.apiKey as CallerKey | undefined;
  if (!caller) throw new Error("callerOf: no API key on this request (the route is not behind requireApiKey)");
  return caller;
}

/** Who made a write, for the audit log: the key's fingerprint and the request's correlation id. */
export function actorOf(res: { locals: Record<string, unknown> }): { keyId: string; correlationId?: string } {
  const correlationId = res.locals.correlationId as string | undefined;
  return { keyId: callerOf(res).id, ...(correlationId ? { correlationId } : {}) };
}
