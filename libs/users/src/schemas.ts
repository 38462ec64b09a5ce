import { z } from "zod";
import { PLATFORMS, decodeCursor, isUuid } from "@herald/db";
import { durationField } from "@herald/config";

export const E164 = /^\+[1-9]\d{6,14}$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const timeZone = z.string().refine(isTimeZone, "must be an IANA time zone such as Europe/Paris");
export const language = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a language tag such as en or pt-BR");
const phone = z.string().regex(E164, "must be an E.164 phone number such as +14155550123");
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2048);
const httpsUrl = z.url({ protocol: /^https$/, error: "must be an https URL" }).max(2048);
const deviceToken = z.string().min(1).max(4096);

export const quietHoursSchema = z
  .object({
    start: z.string().regex(HHMM, "must be HH:MM (24 h)"),
    end: z.string().regex(HHMM, "must be HH:MM (24 h)"),
    timezone: timeZone.optional(),
  })
  .strict()
  .refine((q) => q.start !== q.end, { message: "start and end must differ", path: ["end"] });

export const preferencesSchema = z
  .object({
    email_enabled: z.boolean(),
    push_enabled: z.boolean(),
    sms_enabled: z.boolean(),
    whatsapp_enabled: z.boolean(),
    webhook_enabled: z.boolean(),
    slack_enabled: z.boolean(),
    language,
    timezone: timeZone,
    quiet_hours: quietHoursSchema.nullable(),
    push_token: deviceToken,
    push_platform: z.enum(PLATFORMS),
  })
  .partial()
  .strict();

export const createUserSchema = z
  .object({
    external_id: z.string().min(1).max(255).optional(),
    name: z.string().max(255).optional(),
    email: z.email().max(320).optional(),
    phone: phone.optional(),
    language: language.optional(),
    timezone: timeZone.optional(),
    webhook_url: httpUrl.optional(),
    slack_webhook_url: httpsUrl.optional(),
    preferences: preferencesSchema.optional(),
  })
  .strict();

export const updateUserSchema = z
  .object({
    external_id: z.string().min(1).max(255).nullable(),
    name: z.string().max(255).nullable(),
    email: z.email().max(320).nullable(),
    phone: phone.nullable(),
    language,
    timezone: timeZone,
    webhook_url: httpUrl.nullable(),
    slack_webhook_url: httpsUrl.nullable(),
  })
  .partial()
  .strict();

export const deviceSchema = z.object({ token: deviceToken, platform: z.enum(PLATFORMS) }).strict();

/** GET /users: cursor pagination and the two filters. */
export const listUsersQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z
      .string()
      .max(200)
      .refine((c) => isUuid(decodeCursor(c) ?? ""), "is not a cursor this API gave")
      .optional(),
    email: z.string().min(1).max(320).optional(),
    external_id: z.string().min(1).max(255).optional(),
  })
  .strict();

export type CreateUserInput = z.infer<typeof createUserSchema>;
export type UpdateUserInput = z.infer<typeof updateUserSchema>;
export type PreferencesInput = z.infer<typeof preferencesSchema>;
export type DeviceInput = z.infer<typeof deviceSchema>;
export type ListUsersQuery = z.infer<typeof listUsersQuerySchema>;

/** POST /users/:id/webhook-secret/rotate: how long the replaced secret keeps signing (default 24 h, at most 30 days; 0 ends it at once). */
export const rotateSecretSchema = z
  .object({ keep_previous_for: durationField(0, 30 * 86_400_000).optional() })
  .strict();
