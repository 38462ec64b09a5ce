import { PermanentDeliveryError, RetryableDeliveryError } from "@herald/errors";
import { FakeTwilio } from "@herald/testkit";
import { TwilioTextProvider } from "./twilio";

describe("TwilioTextProvider against a fake Twilio Messages API", () => {
  let twilio: FakeTwilio;
  let provider: TwilioTextProvider;

  beforeAll(async () => {
    twilio = new FakeTwilio();
    await twilio.start();
    provider = new TwilioTextProvider({ accountSid: twilio.accountSid, authToken: twilio.authToken, timeoutMs: 1000, httpsAgent: twilio.agent });
  });

  afterEach(() => twilio.clearFaults());

  afterAll(async () => {
    await provider.close();
    await twilio.stop();
  });

  const sms = (to: string, extra: Partial<{ from: string; channel: "sms" | "whatsapp" }> = {}) => ({
    channel: "sms" as const,
    to,
    from: "+15005550006",
    body: "Your code is 123456",
    deliveryId: "d-1",
    ...extra,
  });

  it("sends SMS and WhatsApp with the account's credentials and answers the message SID", async () => {
    const receipt = await provider.send(sms("+14155550101"));
    expect(receipt.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(twilio.received.at(-1)).toMatchObject({ to: "+14155550101", from: "+15005550006", body: "Your code is 123456", sid: receipt.providerMessageId });
    await provider.send(sms("whatsapp:+14155550101", { channel: "whatsapp", from: "whatsapp:+14155238886" }));
    expect(twilio.received.at(-1)).toMatchObject({ to: "whatsapp:+14155550101", from: "whatsapp:+14155238886" });
  });

  it("sends from a Messaging Service when the sender is an MG SID", async () => {
    const service = `MG${"a".repeat(32)}`;
    await provider.send(sms("+14155550102", { from: service }));
    expect(twilio.received.at(-1)).toMatchObject({ to: "+14155550102", messagingServiceSid: service, from: undefined });
  });

  it("maps Twilio errors: invalid or unsubscribed recipients are permanent, 429 and 5xx retryable", async () => {
    twilio.fail({ code: 21211, message: "The 'To' number +1555 is not a valid phone number." }, 1);
    await expect(provider.send(sms("+1555"))).rejects.toMatchObject({ code: "twilio_21211", retryable: false });
    twilio.fail({ code: 21610, message: "Attempt to send to unsubscribed recipient" }, 1);
    await expect(provider.send(sms("+14155550103"))).rejects.toBeInstanceOf(PermanentDeliveryError);
    twilio.fail("rate_limited", 1);
    await expect(provider.send(sms("+14155550104"))).rejects.toMatchObject({ code: "twilio_20429", retryable: true });
    twilio.fail("server_error", 1);
    await expect(provider.send(sms("+14155550104"))).rejects.toBeInstanceOf(RetryableDeliveryError);
  });

  it("times out a hung request as retryable, and wrong credentials are retryable too", async () => {
    twilio.fail("hang", 1);
    await expect(provider.send(sms("+14155550105"))).rejects.toMatchObject({ code: "twilio_timeout", retryable: true });
    const wrong = new TwilioTextProvider({ accountSid: twilio.accountSid, authToken: "nope", timeoutMs: 1000, httpsAgent: twilio.agent });
    await expect(wrong.send(sms("+14155550106"))).rejects.toMatchObject({ code: "twilio_20003", retryable: true });
  });
});
