import { ConfigError, loadConfig } from "./config";

describe("API_KEYS with read-only keys", () => {
  it("reads `key:read` as a read-only key and the rest as admin keys", () => {
    const config = loadConfig({ API_KEYS: "admin-key, viewer-key:read ,other" });
    expect(config.apiKeys).toEqual(["admin-key", "viewer-key", "other"]);
    expect(config.readOnlyApiKeys).toEqual(["viewer-key"]);
    expect(loadConfig({ API_KEYS: "a,b" }).readOnlyApiKeys).toEqual([]);
  });

  it("refuses an empty key with the suffix, and production with only read-only keys, without repeating a key", () => {
    expect(() => loadConfig({ API_KEYS: "a,:read" })).toThrow(ConfigError);
    expect(() => loadConfig({ API_KEYS: "secret-viewer:read", NODE_ENV: "production" })).toThrow(/API_KEYS lists only read-only keys/);
    expect(() => loadConfig({ API_KEYS: "secret-viewer:read", NODE_ENV: "production" })).not.toThrow(/secret-viewer/);
    expect(loadConfig({ API_KEYS: "viewer:read" }).readOnlyApiKeys).toEqual(["viewer"]);
  });
});
