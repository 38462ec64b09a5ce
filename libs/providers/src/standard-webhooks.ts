import { createHmac } from "node:crypto";

/** The Standard Webhooks headers (https://www.standardwebhooks.com), as both webhook kinds send them. */
export const STANDARD_WEBHOOK_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
} as const;

const PREFIX = "whsec_";

/**
 * The HMAC key of a secret, as the spec and its libraries read it: the base64-decoded part after
 * `whsec_` (a secret without the prefix is decoded whole). An older Herald secret (`whsec_` and
 * hex) is read the same way: hex digits are base64 characters, so a receiver using a Standard
 * Webhooks library with that secret verifies it too.
 */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
}

/** `v1,` and the base64 HMAC-SHA256, keyed with the secret's key, of `<id>.<timestamp>.<body>`. */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac("sha256", signingKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/**
 * The three Standard Webhooks headers of one attempt. `secrets`: the current secret first, then
 * any rotated-out one still valid; each gives one signature (space-separated), so a receiver that
 * still has the old secret, or already has the new one, verifies it.
 */
export function standardWebhookHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): Record<string, string> {
  return {
    [STANDARD_WEBHOOK_HEADERS.id]: id,
    [STANDARD_WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [STANDARD_WEBHOOK_HEADERS.signature]: secrets.map((secret) => standardSignature(secret, id, timestamp, body)).join(" "),
  };
}
