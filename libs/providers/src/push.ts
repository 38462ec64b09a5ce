import { PermanentDeliveryError, RetryableDeliveryError, UndeliverableError } from "@herald/errors";
import type { Provider, SendReceipt } from "./types";

export type PushPlatform = "android" | "ios" | "web";

export interface PushDevice {
  token: string;
  platform: PushPlatform;
}

/** One push notification for every device of one user, already rendered. */
export interface PushMessage {
  devices: PushDevice[];
  title?: string;
  body: string;
  data?: Record<string, string>;
  image?: string;
  /** high and critical ask the platforms for immediate delivery. */
  urgent: boolean;
  deliveryId: string;
}

/**
 * What became of the message on one device:
 * - sent: the provider accepted it (message_id);
 * - invalid_token: the token is unregistered or invalid: it is removed from the user's devices;
 * - retryable: the provider may accept it later (5xx, quota, timeout);
 * - rejected: retrying cannot help (the message itself is invalid for this device).
 */
export interface DeviceResult {
  token: string;
  platform: PushPlatform;
  status: "sent" | "invalid_token" | "retryable" | "rejected";
  message_id?: string;
  error_code?: string;
  error?: string;
}

export interface PushReceipt {
  devices: DeviceResult[];
}

/** A push provider reports per device; only a failure of the whole call is thrown. */
export interface PushProvider extends Omit<Provider<PushMessage>, "send"> {
  send(message: PushMessage): Promise<PushReceipt>;
}

/** The stored per-device outcome of a push delivery (deliveries.outcome). */
export interface PushOutcome {
  devices: DeviceResult[];
  removed_tokens: string[];
}

/**
 * One delivery's fate from its devices' results:
 * - any device got it: sent (the others are listed in the outcome; a retry would send twice to
 *   the devices that already have it);
 * - none did and one may later: retryable, so the delivery is retried (to the devices left);
 * - none did and some refused the message: permanent, to the dead-letter queue;
 * - every token was invalid: undeliverable, the delivery fails (nothing to retry or replay).
 */
export function settlePush(receipt: PushReceipt): SendReceipt & { outcome: PushOutcome } {
  const outcome: PushOutcome = {
    devices: receipt.devices,
    removed_tokens: receipt.devices.filter((d) => d.status === "invalid_token").map((d) => d.token),
  };
  const sent = receipt.devices.filter((d) => d.status === "sent");
  if (sent.length > 0) return { providerMessageId: sent.map((d) => d.message_id ?? "").join(","), outcome };
  const summary = receipt.devices.map((d) => `${d.platform} ${d.error_code ?? d.status}`).join(", ");
  const retryable = receipt.devices.find((d) => d.status === "retryable");
  if (retryable) throw new RetryableDeliveryError(retryable.error_code ?? "push_failed", `no device accepted the push (${summary})`, { outcome });
  const rejected = receipt.devices.find((d) => d.status === "rejected");
  if (rejected) throw new PermanentDeliveryError(rejected.error_code ?? "push_rejected", `the push was rejected (${summary})`, { outcome });
  throw new UndeliverableError("no_valid_devices", `every device token of the user was invalid and has been removed (${summary})`, { outcome });
}
