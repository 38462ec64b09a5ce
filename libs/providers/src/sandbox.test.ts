import { loadConfig } from "@herald/config";
import { providerChoice } from "./sandbox";

const twilio = { TWILIO_ACCOUNT_SID: `AC${"1".repeat(32)}`, TWILIO_AUTH_TOKEN: "secret" };

describe("providerChoice", () => {
  it("uses the sandbox for a channel without credentials outside production", () => {
    const config = loadConfig({ ...twilio, TWILIO_FROM: "+15005550006" });
    expect(providerChoice(config, "push")).toBe("sandbox");
    expect(providerChoice(config, "sms")).toBe("real");
    // WhatsApp needs its own sender.
    expect(providerChoice(config, "whatsapp")).toBe("sandbox");
    expect(providerChoice(loadConfig({ FIREBASE_SERVICE_ACCOUNT: "{}" }), "push")).toBe("real");
  });

  it("never uses the sandbox in production", () => {
    const config = loadConfig({ NODE_ENV: "production", API_KEYS: "k", ...twilio, TWILIO_WHATSAPP_FROM: "+14155238886" });
    expect(providerChoice(config, "push")).toBe("unavailable");
    expect(providerChoice(config, "sms")).toBe("unavailable");
    expect(providerChoice(config, "whatsapp")).toBe("real");
  });
});
