import { classifyFcmError, fcmMessage, loadServiceAccount } from "./fcm";

const fcmError = (code: string, message = "boom") => Object.assign(new Error(message), { code });

describe("classifyFcmError", () => {
  it("marks unregistered and invalid tokens for removal", () => {
    expect(classifyFcmError(fcmError("messaging/registration-token-not-registered"))).toEqual({ status: "invalid_token", error_code: "fcm_registration_token_not_registered" });
    expect(classifyFcmError(fcmError("messaging/invalid-registration-token")).status).toBe("invalid_token");
    expect(classifyFcmError(fcmError("messaging/invalid-argument", "The registration token is not a valid FCM registration token"))).toEqual({
      status: "invalid_token",
      error_code: "fcm_invalid_registration_token",
    });
  });

  it("rejects a message FCM refuses, without touching the token", () => {
    expect(classifyFcmError(fcmError("messaging/invalid-argument", "Invalid value at 'message.data[0].value'"))).toEqual({ status: "rejected", error_code: "fcm_invalid_argument" });
    expect(classifyFcmError(fcmError("messaging/payload-size-limit-exceeded")).status).toBe("rejected");
    expect(classifyFcmError(fcmError("messaging/mismatched-credential")).status).toBe("rejected");
  });

  it("retries server errors, quotas, credential and network failures, and anything unknown", () => {
    for (const code of [
      "messaging/server-unavailable",
      "messaging/internal-error",
      "messaging/message-rate-exceeded",
      "messaging/third-party-auth-error",
      "app/invalid-credential",
      "app/network-timeout",
      "app/network-error",
      "messaging/unknown-error",
    ]) {
      expect(classifyFcmError(fcmError(code)).status).toBe("retryable");
    }
    expect(classifyFcmError(fcmError("messaging/internal-error")).error_code).toBe("fcm_internal_error");
    expect(classifyFcmError(new Error("socket hang up"))).toEqual({ status: "retryable", error_code: "fcm_error" });
  });
});

describe("fcmMessage", () => {
  const base = { body: "Your order shipped", title: "Order 42", deliveryId: "0190a0b0-0000-7000-8000-000000000001", devices: [] };
  const collapse = base.deliveryId;

  it("carries title, body, data and image, with each platform's options and the delivery id as collapse identifier", () => {
    const android = fcmMessage({ token: "a", platform: "android" }, { ...base, data: { order: "42" }, image: "https://x/i.png", urgent: true });
    expect(android).toEqual({
      token: "a",
      notification: { title: "Order 42", body: "Your order shipped", imageUrl: "https://x/i.png" },
      data: { order: "42" },
      android: { collapseKey: collapse, notification: { tag: collapse }, priority: "high" },
    });
    const ios = fcmMessage({ token: "i", platform: "ios" }, { ...base, image: "https://x/i.png", urgent: false });
    expect(ios.apns).toEqual({ headers: { "apns-collapse-id": collapse }, payload: { aps: { mutableContent: true } }, fcmOptions: { imageUrl: "https://x/i.png" } });
    const web = fcmMessage({ token: "w", platform: "web" }, { ...base, urgent: true });
    expect(web.webpush).toEqual({ headers: { Topic: "0190a0b0000070008000000000000001", Urgency: "high" }, notification: { tag: collapse } });
    expect(web.webpush!.headers!.Topic!.length).toBeLessThanOrEqual(32);
    expect(web.data).toBeUndefined();
  });
});

describe("loadServiceAccount", () => {
  it("reads the JSON and names the variable when it is unusable", () => {
    expect(loadServiceAccount('{"project_id":"p","client_email":"e@p","private_key":"k"}')).toMatchObject({ project_id: "p" });
    expect(() => loadServiceAccount("{nope")).toThrow(/FIREBASE_SERVICE_ACCOUNT is not valid JSON/);
    expect(() => loadServiceAccount('{"project_id":"p"}')).toThrow(/FIREBASE_SERVICE_ACCOUNT has no client_email/);
    expect(() => loadServiceAccount("/no/such/file.json")).toThrow(/FIREBASE_SERVICE_ACCOUNT: cannot read/);
  });
});
