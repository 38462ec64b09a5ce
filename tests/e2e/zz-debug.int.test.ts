import { listen } from "@herald/http";
import { TEST_API_KEY, createTestEnv, type TestEnv } from "@herald/testkit";
import { startApi } from "../support/system";
import { rawRequest } from "../support/raw-http";

describe("debug", () => {
  let env: TestEnv;
  let port: number;
  beforeAll(async () => {
    env = await createTestEnv({ HTTP_REQUEST_TIMEOUT: "1s" });
    const { app, runtime } = await startApi(env);
    const http = await listen(app, 0, "127.0.0.1");
    runtime.releasers.add("http", () => http.close());
    port = http.port;
  });
  afterAll(() => env.cleanup());
  it("speed", async () => {
    for (const path of ["/notifications/0190a0b0-0000-7000-8000-000000000000", "/templates/x", "/health"]) {
      const t = Date.now();
      let next = 0;
      await Promise.all(Array.from({ length: 24 }, async () => {
        while (next++ < 1000) await rawRequest(port, { method: "GET", target: path, headers: [["X-API-Key", TEST_API_KEY]] }, 10000);
      }));
      console.log(path, "1000 in", Date.now() - t);
    }
  });
  it.skip("long", async () => {
    for (const expect of [[], [["Expect", "100-continue"]]] as [string, string][][]) {
      for (const path of ["/templates/x", "/notifications/x"]) {
        const a = await rawRequest(port, { method: "GET", target: path, headers: [["X-API-Key", TEST_API_KEY], ["Content-Type", "application/json"], ...expect], body: Buffer.from("garbage"), framing: "long" }, 10000);
        console.log(path, expect, JSON.stringify(a).slice(0, 300));
      }
    }
  });
});
