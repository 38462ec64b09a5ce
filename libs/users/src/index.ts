export { UserDirectory } from "./directory";
export { UserService, newWebhookSecret } from "./service";
export type { UserWithSecret } from "./service";
export type { Registration } from "./devices";
export { quietHoursEnd, inQuietHours } from "./quiet-hours";
export type { UserProfile, Preferences, QuietHours, DeviceView } from "./profile";
export {
  createUserSchema,
  updateUserSchema,
  preferencesSchema,
  quietHoursSchema,
  deviceSchema,
  listUsersQuerySchema,
  isTimeZone,
  timeZone,
  language,
  E164,
} from "./schemas";
export type { CreateUserInput, UpdateUserInput, PreferencesInput, DeviceInput, ListUsersQuery } from "./schemas";
