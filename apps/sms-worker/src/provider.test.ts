import { loadConfig } from "@herald/config";
import { createLogger } from "@herald/logger";
import type { Runtime } from "@herald/runtime";
import { textHandlersFor } from "./provider";

/** Only what textHandlersFor reads; it opens no connection when choosing providers. */
function runtimeWith(env: Record<string, string>): Runtime {
  return { config: loadConfig(env), logger: createLogger({ service: "test", level: "error" }) } as Runtime;
}

describe("textHandlersFor", () => {
  it("gives each configured channel Twilio, one client for both, and refuses to start in production with neither", () => {
    const twilio = { NODE_ENV: "production", API_KEYS: "k", TWILIO_ACCOUNT_SID: `AC${"2".repeat(32)}`, TWILIO_AUTH_TOKEN: "t" };
    const both = textHandlersFor(runtimeWith({ ...twilio, TWILIO_FROM: "+15005550006", TWILIO_WHATSAPP_FROM: "+14155238886" }));
    expect(both.handlers.map((h) => `${h.channel} ${h.provider}`)).toEqual(["sms twilio", "whatsapp twilio"]);
    expect(both.providers).toHaveLength(1);
    // Production without a WhatsApp sender: no whatsapp handler (its messages are dead-lettered).
    expect(textHandlersFor(runtimeWith({ ...twilio, TWILIO_FROM: "+15005550006" })).handlers.map((h) => h.channel)).toEqual(["sms"]);
    expect(() => textHandlersFor(runtimeWith({ NODE_ENV: "production", API_KEYS: "k" }))).toThrow(/TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM/);
  });
});
