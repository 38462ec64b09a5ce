import type { Platform } from "@herald/db";

export interface QuietHours {
  start: string;
  end: string;
  timezone: string;
}

export interface Preferences {
  email_enabled: boolean;
  push_enabled: boolean;
  sms_enabled: boolean;
  whatsapp_enabled: boolean;
  webhook_enabled: boolean;
  slack_enabled: boolean;
  language: string;
  timezone: string;
  quiet_hours: QuietHours | null;
}

export interface DeviceView {
  token: string;
  platform: Platform;
  created_at: string;
}

/** A user as the API shows it and as the gateway and workers read it from the cache. */
export interface UserProfile {
  id: string;
  external_id: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  language: string;
  timezone: string;
  webhook_url: string | null;
  slack_webhook_url: string | null;
  preferences: Preferences;
  devices: DeviceView[];
  created_at: string;
  updated_at: string;
}
