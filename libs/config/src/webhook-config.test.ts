import { loadConfig } from "./config";

describe("webhook and dead-letter settings", () => {
  it("lets webhooks reach loopback (only) in development and test, nothing private in production, unless told otherwise", () => {
    expect(loadConfig({}).webhook.allowPrivate).toBe("loopback");
    expect(loadConfig({ NODE_ENV: "test" }).webhook.allowPrivate).toBe("loopback");
    expect(loadConfig({ NODE_ENV: "production", API_KEYS: "k" }).webhook.allowPrivate).toBe("none");
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: "false" }).webhook.allowPrivate).toBe("none");
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: "true" }).webhook.allowPrivate).toBe("all");
    expect(loadConfig({ NODE_ENV: "production", API_KEYS: "k", WEBHOOK_ALLOW_PRIVATE: "loopback" }).webhook.allowPrivate).toBe("loopback");
    expect(loadConfig({ NODE_ENV: "production", API_KEYS: "k", WEBHOOK_ALLOW_PRIVATE: "true" }).webhook.allowPrivate).toBe("all");
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: "maybe" })).toThrow(/WEBHOOK_ALLOW_PRIVATE/);
  });

  it("has defaults for the timeout, concurrency, breaker threshold and replay rate", () => {
    expect(loadConfig({}).webhook).toEqual({ timeoutMs: 10_000, allowPrivate: "loopback", concurrency: 20, breakerFailureThreshold: 20 });
    expect(loadConfig({}).dlq).toEqual({ replayRate: 100 });
    expect(loadConfig({ WEBHOOK_TIMEOUT: "2500ms" }).webhook.timeoutMs).toBe(2500);
    expect(() => loadConfig({ DLQ_REPLAY_RATE: "0" })).toThrow(/DLQ_REPLAY_RATE/);
  });
});
