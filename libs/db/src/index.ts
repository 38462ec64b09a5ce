export { createDatabase, pingDatabase } from "./client";
export type { Database, DatabaseOptions } from "./client";
export { isUniqueViolation, isDatabaseUnavailable } from "./errors";
export { newId, isUuid, uuidv7Floor } from "./ids";
export { encodeCursor, decodeCursor } from "./cursor";
export { CHANNELS, PRIORITIES, PLATFORMS, DELIVERY_STATUSES, TERMINAL_STATUSES } from "./enums";
export type { Channel, DeliveryStatus, Platform, Priority } from "./enums";
export { Prisma } from "@prisma/client";
export type { PrismaClient } from "@prisma/client";
export type {
  User,
  Preferences as PreferencesRow,
  Device,
  Template,
  TemplateVariant,
  TemplateVersion,
  NotificationRequest,
  Delivery,
  DeliveryAttempt,
  DeadLetter,
  SandboxMessage,
  RoutingRule,
} from "@prisma/client";
export { withTransaction } from "./transaction";
export { Batcher, BatchFailure } from "./batcher";
export { prepared } from "./prepared";
