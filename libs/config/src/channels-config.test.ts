import { ConfigError, loadConfig } from "./config";

describe("push, SMS and WhatsApp configuration", () => {
  it("defaults: no credentials (the sandbox), 10 s timeouts, no rate budgets", () => {
    const config = loadConfig({});
    expect(config.firebase).toEqual({ serviceAccount: undefined, timeoutMs: 10_000 });
    expect(config.twilio).toMatchObject({ accountSid: undefined, from: undefined, timeoutMs: 10_000 });
    expect(config.outboundRates).toEqual({ email: 0, push: 0, sms: 0, whatsapp: 0 });
  });

  it("reads the rate budgets and timeouts", () => {
    const config = loadConfig({ SMS_RATE_PER_SECOND: "10", WHATSAPP_RATE_PER_SECOND: "2", PUSH_TIMEOUT: "3s", TWILIO_TIMEOUT: "500ms" });
    expect(config.outboundRates).toMatchObject({ sms: 10, whatsapp: 2 });
    expect(config.firebase.timeoutMs).toBe(3000);
    expect(config.twilio.timeoutMs).toBe(500);
  });

  it("names a bad rate budget", () => {
    expect(() => loadConfig({ SMS_RATE_PER_SECOND: "fast" })).toThrow(ConfigError);
    expect(() => loadConfig({ SMS_RATE_PER_SECOND: "1.5" })).toThrow(/^Invalid configuration: SMS_RATE_PER_SECOND .*"1.5"/);
    expect(() => loadConfig({ PUSH_RATE_PER_SECOND: "-1" })).toThrow(/PUSH_RATE_PER_SECOND/);
  });
});
