import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { AppError } from "@herald/errors";

const digest = (key: string) => createHash("sha256").update(key).digest();

/** A short, stable, non-secret name for a key (from its digest): scopes idempotency keys and shows in logs. */
const keyId = (keyDigest: Buffer) => keyDigest.toString("hex").slice(0, 12);

/**
 * API-key authentication: `X-API-Key: <key>` or `Authorization: Bearer <key>`. Keys are compared
 * as SHA-256 digests in constant time. Sets res.locals.apiKeyId.
 */
export function requireApiKey(keys: readonly string[]): RequestHandler {
  const known = keys.map(digest);
  return (req, res, next) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.get("authorization") ?? "")?.[1];
    const key = req.get("x-api-key") ?? bearer;
    if (!key) throw new AppError("unauthorized", "Missing API key: send X-API-Key or Authorization: Bearer");
    const given = digest(key.trim());
    if (!known.some((k) => timingSafeEqual(k, given))) throw new AppError("unauthorized", "Invalid API key");
    res.locals.apiKeyId = keyId(given);
    next();
  };
}
