import { PermanentDeliveryError, RetryableDeliveryError } from "@herald/errors";
import { classifyTwilioError } from "./twilio";
import { textAddress } from "./text";

const rest = (status: number, code?: number, message = "twilio says no") => ({ status, code, message });

describe("classifyTwilioError", () => {
  it("recipient and message errors are permanent", () => {
    for (const code of [21211, 21610, 21614, 63003, 63016]) {
      const error = classifyTwilioError(rest(400, code));
      expect(error).toBeInstanceOf(PermanentDeliveryError);
      expect(error.code).toBe(`twilio_${code}`);
    }
    expect(classifyTwilioError(rest(400, 21610)).message).toContain("unsubscribed");
    expect(classifyTwilioError(rest(400, 21999))).toBeInstanceOf(PermanentDeliveryError);
  });

  it("rate limits, Twilio's own failures, timeouts and connection errors are retryable", () => {
    expect(classifyTwilioError(rest(429, 20429))).toBeInstanceOf(RetryableDeliveryError);
    expect(classifyTwilioError(rest(429)).code).toBe("twilio_http_429");
    expect(classifyTwilioError(rest(500, 20500))).toBeInstanceOf(RetryableDeliveryError);
    expect(classifyTwilioError(rest(503))).toBeInstanceOf(RetryableDeliveryError);
    expect(classifyTwilioError(rest(400, 63018))).toBeInstanceOf(RetryableDeliveryError);
    expect(classifyTwilioError({ code: "ECONNABORTED", message: "timeout of 100ms exceeded" }).code).toBe("twilio_timeout");
    expect(classifyTwilioError({ code: "ECONNREFUSED", message: "connect ECONNREFUSED" }).code).toBe("twilio_connection_failed");
  });

  it("our credentials or sender being wrong is retryable, so the breaker opens and messages wait", () => {
    expect(classifyTwilioError(rest(401, 20003))).toBeInstanceOf(RetryableDeliveryError);
    expect(classifyTwilioError(rest(400, 21606))).toBeInstanceOf(RetryableDeliveryError);
    expect(classifyTwilioError(rest(404, 20404))).toBeInstanceOf(RetryableDeliveryError);
  });
});

describe("textAddress", () => {
  it("prefixes WhatsApp numbers once and leaves SMS numbers alone", () => {
    expect(textAddress("sms", "+14155550123")).toBe("+14155550123");
    expect(textAddress("whatsapp", "+14155550123")).toBe("whatsapp:+14155550123");
    expect(textAddress("whatsapp", "whatsapp:+14155550123")).toBe("whatsapp:+14155550123");
  });
});
