import fs from "node:fs";
import https from "node:https";
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { getMessaging, type Messaging, type TokenMessage } from "firebase-admin/messaging";
import { serviceAccountCredential, type ServiceAccount } from "./fcm-credential";
import type { DeviceResult, PushDevice, PushMessage, PushProvider, PushReceipt } from "./push";

export interface FcmOptions {
  serviceAccount: ServiceAccount;
  /** Each device's send (firebase-admin's own retries of 503 included) fails as fcm_timeout after this. */
  timeoutMs: number;
  /** Sends in flight at once; also the agent's sockets. */
  concurrency?: number;
  /**
   * Every HTTPS call (the OAuth token and FCM itself) goes through this agent: a keep-alive agent
   * by default; tests pass one that connects to a local fake FCM.
   */
  httpsAgent?: https.Agent;
}

/**
 * FIREBASE_SERVICE_ACCOUNT: the service account key as JSON, or the path of its file.
 * Throws an Error that names the variable when it cannot be used.
 */
export function loadServiceAccount(value: string): ServiceAccount {
  let text = value.trim();
  if (!text.startsWith("{")) {
    try {
      text = fs.readFileSync(text, "utf8");
    } catch (error) {
      throw new Error(`FIREBASE_SERVICE_ACCOUNT: cannot read the service account file ${value} (${(error as Error).message})`);
    }
  }
  let json: Partial<ServiceAccount>;
  try {
    json = JSON.parse(text) as Partial<ServiceAccount>;
  } catch {
    throw new Error("FIREBASE_SERVICE_ACCOUNT is not valid JSON (give the key file's JSON or its path)");
  }
  for (const field of ["project_id", "client_email", "private_key"] as const) {
    if (typeof json[field] !== "string" || json[field] === "") throw new Error(`FIREBASE_SERVICE_ACCOUNT has no ${field}`);
  }
  return json as ServiceAccount;
}

type DeviceVerdict = Pick<DeviceResult, "status" | "error_code">;

/**
 * How an FCM error is classified, per device (firebase-admin error code -> outcome):
 * - registration-token-not-registered (UNREGISTERED / 404), invalid-registration-token, and
 *   invalid-argument about the registration token -> invalid_token (removed from the user);
 * - invalid-argument about the message, invalid-payload, invalid-data-payload-key,
 *   payload-size-limit-exceeded, invalid-options, invalid-package-name, invalid-recipient,
 *   mismatched-credential (SENDER_ID_MISMATCH: the token belongs to another Firebase project;
 *   kept, since a wrong project in our configuration would otherwise wipe every token) -> rejected;
 * - server-unavailable (503), internal-error (500), message-rate-exceeded and the other quota codes
 *   (429), third-party-auth-error / authentication-error (401: our credentials or the APNs / web
 *   push ones: the breaker opens and the messages wait), app/invalid-credential (the OAuth token
 *   call failed), network errors and timeouts, anything unknown -> retryable.
 * FCM answers INVALID_ARGUMENT both for a bad token and for a bad message, and firebase-admin
 * keeps only the text; "registration token" in it is what tells them apart.
 */
export function classifyFcmError(error: unknown): DeviceVerdict {
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" ? raw : "";
  const message = error instanceof Error ? error.message : String(error);
  const short = `fcm_${code.replace(/^(messaging|app)\//, "").replace(/-/g, "_") || "error"}`;
  switch (code) {
    case "messaging/registration-token-not-registered":
    case "messaging/invalid-registration-token":
      return { status: "invalid_token", error_code: short };
    case "messaging/invalid-argument":
      return /registration token/i.test(message) ? { status: "invalid_token", error_code: "fcm_invalid_registration_token" } : { status: "rejected", error_code: short };
    case "messaging/invalid-payload":
    case "messaging/invalid-data-payload-key":
    case "messaging/payload-size-limit-exceeded":
    case "messaging/invalid-options":
    case "messaging/invalid-package-name":
    case "messaging/invalid-recipient":
    case "messaging/mismatched-credential":
      return { status: "rejected", error_code: short };
    default:
      return { status: "retryable", error_code: short };
  }
}

class TimeoutError extends Error {
  readonly code = "app/network-timeout";
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(`no answer from FCM within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Push through Firebase Cloud Messaging (HTTP v1) with firebase-admin: one send per device,
 * concurrently, so that each device gets its own result and its own timeout. firebase-admin's
 * send() uses its HTTP/1.1 client, the one that honours the app's httpAgent (its HTTP/2 client for
 * sendEach() connects to fcm.googleapis.com itself); with a keep-alive agent the connections
 * stay open between deliveries.
 */
export class FcmPushProvider implements PushProvider {
  readonly name = "fcm";
  readonly concurrency: number;
  readonly deadlineMs: number;
  private readonly app: App;
  private readonly messaging: Messaging;
  private readonly agent: https.Agent;
  private readonly ownsAgent: boolean;

  constructor(private readonly options: FcmOptions) {
    this.concurrency = options.concurrency ?? 10;
    this.deadlineMs = options.timeoutMs;
    this.ownsAgent = !options.httpsAgent;
    this.agent = options.httpsAgent ?? new https.Agent({ keepAlive: true, maxSockets: this.concurrency * 4 });
    this.app = initializeApp(
      {
        credential: serviceAccountCredential(options.serviceAccount, this.agent),
        httpAgent: this.agent,
        projectId: options.serviceAccount.project_id,
      },
      `herald-fcm-${randomUUID()}`,
    );
    this.messaging = getMessaging(this.app);
  }

  async send(message: PushMessage): Promise<PushReceipt> {
    const devices = await Promise.all(message.devices.map((device) => this.sendTo(device, message)));
    return { devices };
  }

  private async sendTo(device: PushDevice, message: PushMessage): Promise<DeviceResult> {
    const base = { token: device.token, platform: device.platform };
    try {
      const id = await withTimeout(this.messaging.send(fcmMessage(device, message)), this.options.timeoutMs);
      return { ...base, status: "sent", message_id: id };
    } catch (error) {
      return { ...base, ...classifyFcmError(error), error: error instanceof Error ? error.message : String(error) };
    }
  }

  async close(): Promise<void> {
    await deleteApp(this.app);
    if (this.ownsAgent) this.agent.destroy();
  }
}

/**
 * The FCM v1 message for one device: the notification, the data, and its platform's options. Each
 * carries the delivery id as its collapse identifier (Android collapse_key and notification tag,
 * apns-collapse-id, web push Topic), so a push sent again after a worker died mid-call replaces
 * the first on the device instead of showing twice.
 */
export function fcmMessage(device: PushDevice, m: PushMessage): TokenMessage {
  const collapse = m.deliveryId;
  const message: TokenMessage = {
    token: device.token,
    notification: { ...(m.title !== undefined ? { title: m.title } : {}), body: m.body, ...(m.image ? { imageUrl: m.image } : {}) },
    ...(m.data && Object.keys(m.data).length > 0 ? { data: m.data } : {}),
  };
  switch (device.platform) {
    case "android":
      message.android = { collapseKey: collapse, notification: { tag: collapse }, ...(m.urgent ? { priority: "high" as const } : {}) };
      break;
    case "ios":
      message.apns = {
        headers: { "apns-collapse-id": collapse, ...(m.urgent ? { "apns-priority": "10" } : {}) },
        // An image needs the app's notification service extension to fetch it.
        payload: { aps: m.image ? { mutableContent: true } : {} },
        ...(m.image ? { fcmOptions: { imageUrl: m.image } } : {}),
      };
      break;
    case "web":
      message.webpush = {
        // A Topic is at most 32 URL-safe characters: the delivery id without its dashes.
        headers: { Topic: collapse.replace(/-/g, ""), ...(m.urgent ? { Urgency: "high" } : {}) },
        notification: { tag: collapse, ...(m.image ? { image: m.image } : {}) },
      };
      break;
  }
  return message;
}
