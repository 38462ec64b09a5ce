import { PermanentDeliveryError, RetryableDeliveryError } from "@herald/errors";
import { classifySmtpError } from "./smtp";

describe("classifySmtpError", () => {
  it("5xx is permanent, 4xx retryable", () => {
    expect(classifySmtpError({ responseCode: 550, message: "no mailbox" })).toBeInstanceOf(PermanentDeliveryError);
    expect(classifySmtpError({ responseCode: 550 }).code).toBe("smtp_550");
    expect(classifySmtpError({ responseCode: 451, message: "later" })).toBeInstanceOf(RetryableDeliveryError);
  });
  it("connection failures and timeouts are retryable", () => {
    expect(classifySmtpError({ code: "ECONNECTION", message: "connect ECONNREFUSED" }).code).toBe("smtp_connection_failed");
    expect(classifySmtpError({ code: "ETIMEDOUT" })).toBeInstanceOf(RetryableDeliveryError);
  });
  it("an authentication failure is retryable (our configuration, not the message)", () => {
    expect(classifySmtpError({ code: "EAUTH", responseCode: 535 })).toBeInstanceOf(RetryableDeliveryError);
  });
});
