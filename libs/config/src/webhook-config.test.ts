import { loadConfig } from "./config";

describe("webhook and dead-letter settings", () => {
  it("allows private webhook addresses in development and test only, unless told otherwise", () => {
    expect(loadConfig({}).webhook.allowPrivate).toBe(true);
    expect(loadConfig({ NODE_ENV: "test" }).webhook.allowPrivate).toBe(true);
    expect(loadConfig({ NODE_ENV: "production", API_KEYS: "k" }).webhook.allowPrivate).toBe(false);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: "false" }).webhook.allowPrivate).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", API_KEYS: "k", WEBHOOK_ALLOW_PRIVATE: "true" }).webhook.allowPrivate).toBe(true);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: "maybe" })).toThrow(/WEBHOOK_ALLOW_PRIVATE/);
  });

  it("has defaults for the timeout, concurrency, breaker threshold and replay rate", () => {
    expect(loadConfig({}).webhook).toEqual({ timeoutMs: 10_000, allowPrivate: true, concurrency: 20, breakerFailureThreshold: 20 });
    expect(loadConfig({}).dlq).toEqual({ replayRate: 100 });
    expect(loadConfig({ WEBHOOK_TIMEOUT: "2500ms" }).webhook.timeoutMs).toBe(2500);
    expect(() => loadConfig({ DLQ_REPLAY_RATE: "0" })).toThrow(/DLQ_REPLAY_RATE/);
  });
});
