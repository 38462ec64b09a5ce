import { ConfigError, loadConfig } from "./config";

describe("loadConfig", () => {
  it("has the contract's defaults", () => {
    const config = loadConfig({});
    expect(config.ports.gateway).toBe(8000);
    expect(config.database.url).toBe("postgresql://postgres@127.0.0.1:5432/notifications");
    expect(config.retry).toEqual({ maxRetries: 3, baseDelayMs: 2000 });
    expect(config.breaker).toEqual({ failureThreshold: 5, recoveryTimeoutMs: 60_000 });
    expect(config.rateLimit).toEqual({ perUser: 100, windowMs: 60_000 });
    expect(config.smtp.host).toBeUndefined();
    expect(config.scheduler.intervalMs).toBe(1000);
  });

  it("reads the retention sweep's settings: 30 days, 500 a batch, a minute apart; 0 days keeps everything", () => {
    expect(loadConfig({}).retention).toEqual({ days: 30, batchSize: 500, intervalMs: 60_000 });
    expect(loadConfig({ RETENTION_DAYS: "0", RETENTION_BATCH_SIZE: "50", RETENTION_INTERVAL: "10s" }).retention).toEqual({ days: 0, batchSize: 50, intervalMs: 10_000 });
    expect(() => loadConfig({ RETENTION_DAYS: "-1" })).toThrow(/RETENTION_DAYS/);
    expect(() => loadConfig({ RETENTION_BATCH_SIZE: "0" })).toThrow(/RETENTION_BATCH_SIZE/);
    expect(() => loadConfig({ RETENTION_INTERVAL: "often" })).toThrow(/RETENTION_INTERVAL/);
  });

  it("reads durations as seconds or with a unit", () => {
    expect(loadConfig({ CIRCUIT_BREAKER_RECOVERY_TIMEOUT: "30" }).breaker.recoveryTimeoutMs).toBe(30_000);
    expect(loadConfig({ CIRCUIT_BREAKER_RECOVERY_TIMEOUT: "1500ms" }).breaker.recoveryTimeoutMs).toBe(1500);
    expect(loadConfig({ RATE_LIMIT_WINDOW: "2m" }).rateLimit.windowMs).toBe(120_000);
  });

  it("names the variable and what is wrong", () => {
    expect(() => loadConfig({ RETRY_BASE_DELAY_MS: "soon" })).toThrow(ConfigError);
    expect(() => loadConfig({ RETRY_BASE_DELAY_MS: "soon" })).toThrow(/^Invalid configuration: RETRY_BASE_DELAY_MS .*"soon"/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL must be a URL starting with postgresql:/);
    expect(() => loadConfig({ CIRCUIT_BREAKER_RECOVERY_TIMEOUT: "a while" })).toThrow(/CIRCUIT_BREAKER_RECOVERY_TIMEOUT/);
  });

  it("makes a dev API key when API_KEYS is unset, and refuses to start without one in production", () => {
    const dev = loadConfig({});
    expect(dev.apiKeys).toHaveLength(1);
    expect(dev.generatedApiKey).toBe(dev.apiKeys[0]);
    expect(loadConfig({ API_KEYS: "a, b ,," }).apiKeys).toEqual(["a", "b"]);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/API_KEYS is required in production/);
  });

  it("reads SMTP_URLS as relays in order, in place of SMTP_HOST, and never prints their passwords", () => {
    const config = loadConfig({ SMTP_URLS: "smtp://relay-a:2525, smtps://user%40x:p%40ss@relay-b", SMTP_HOST: "ignored" });
    expect(config.smtp.servers).toEqual([
      { host: "relay-a", port: 2525, secure: false, user: undefined, password: undefined },
      { host: "relay-b", port: 465, secure: true, user: "user@x", password: "p@ss" },
    ]);
    expect(loadConfig({ SMTP_HOST: "mx", SMTP_PORT: "25" }).smtp.servers).toEqual([{ host: "mx", port: 25, secure: false, user: undefined, password: undefined }]);
    expect(loadConfig({}).smtp.servers).toEqual([]);
    expect(() => loadConfig({ SMTP_URLS: "http://u:secret@relay" })).toThrow(/SMTP_URLS relays must be smtp:\/\/ or smtps:\/\/ URLs/);
    expect(() => loadConfig({ SMTP_URLS: "smtp://u:secret@relay:99999" })).toThrow(/SMTP_URLS/);
    expect(() => loadConfig({ SMTP_URLS: "smtp://u:secret@relay:99999" })).not.toThrow(/secret/);
  });
});
