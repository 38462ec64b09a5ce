import { randomUUID } from "node:crypto";

/**
 * A UUIDv7: time-ordered, so new rows land at the end of the primary-key index and an id is a
 * usable pagination cursor. (PostgreSQL 15 has no uuidv7(); the layout is RFC 9562's.)
 */
export function newId(now = Date.now()): string {
  // randomUUID draws from a cached pool of random bytes (randomBytes(16) would be a syscall each):
  // keep its random bits and variant, put the time in front and the version nibble 7.
  const random = randomUUID();
  const time = now.toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19, 23)}-${random.slice(24)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The lowest UUIDv7 of an instant: ids are time-ordered, so `id >= uuidv7Floor(t)` is "made at or after t". */
export function uuidv7Floor(at: Date): string {
  const hex = Math.max(0, Math.floor(at.getTime())).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
