import type { Platform, Prisma } from "@herald/db";
import type { DeviceView } from "./profile";

export interface Registration {
  device: DeviceView;
  /** False when this user already had the token (a repeat registration changes nothing else). */
  created: boolean;
  /** The user the token moved away from, whose cached profile must be invalidated too. */
  previousOwner?: { id: string; externalId: string | null };
}

/**
 * Registers a push token for a user, inside the caller's transaction. The same token again is a
 * no-op apart from its platform and last_seen_at; a token another user had moves to this one (a
 * phone changes hands, or another account logs in on it): the newest registration wins.
 */
export async function registerDevice(tx: Prisma.TransactionClient, userId: string, token: string, platform: Platform): Promise<Registration> {
  const previous = await tx.device.findUnique({ where: { token }, include: { user: { select: { externalId: true } } } });
  const row = await tx.device.upsert({
    where: { token },
    create: { token, userId, platform },
    update: { userId, platform, lastSeenAt: new Date(), ...(previous && previous.userId !== userId ? { createdAt: new Date() } : {}) },
  });
  const device: DeviceView = { token: row.token, platform: row.platform, created_at: row.createdAt.toISOString() };
  if (!previous) return { device, created: true };
  if (previous.userId === userId) return { device, created: false };
  return { device, created: true, previousOwner: { id: previous.userId, externalId: previous.user.externalId } };
}
