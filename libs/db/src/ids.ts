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
