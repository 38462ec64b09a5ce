import { PermanentDeliveryError, RetryableDeliveryError, UndeliverableError } from "@herald/errors";
import { settlePush, type DeviceResult } from "./push";

const device = (token: string, status: DeviceResult["status"], extra: Partial<DeviceResult> = {}): DeviceResult => ({ token, platform: "android", status, ...extra });

describe("settlePush", () => {
  it("is sent when any device got it, with every device's result and the removed tokens in the outcome", () => {
    const receipt = { devices: [device("a", "sent", { message_id: "m1" }), device("b", "invalid_token", { error_code: "fcm_x" }), device("c", "retryable")] };
    const result = settlePush(receipt);
    expect(result.providerMessageId).toBe("m1");
    expect(result.outcome).toEqual({ devices: receipt.devices, removed_tokens: ["b"] });
  });

  it("is retryable when no device got it and one may later", () => {
    const error = (() => {
      try {
        settlePush({ devices: [device("a", "invalid_token"), device("b", "retryable", { error_code: "fcm_internal_error" })] });
      } catch (e) {
        return e;
      }
    })() as RetryableDeliveryError;
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect(error.code).toBe("fcm_internal_error");
    expect(error.outcome).toMatchObject({ removed_tokens: ["a"] });
  });

  it("is permanent when the message was refused, and undeliverable when every token was invalid", () => {
    expect(() => settlePush({ devices: [device("a", "rejected", { error_code: "fcm_invalid_argument" })] })).toThrow(PermanentDeliveryError);
    expect(() => settlePush({ devices: [device("a", "invalid_token"), device("b", "invalid_token")] })).toThrow(UndeliverableError);
  });
});
