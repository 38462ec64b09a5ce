import { FakeFcm } from "@herald/testkit";
import { FcmPushProvider } from "./fcm";
import { loadServiceAccount } from "./fcm";

describe("FcmPushProvider against a fake FCM v1 API", () => {
  let fcm: FakeFcm;
  let provider: FcmPushProvider;

  beforeAll(async () => {
    fcm = new FakeFcm();
    await fcm.start();
    provider = new FcmPushProvider({ serviceAccount: loadServiceAccount(fcm.serviceAccountJson), timeoutMs: 1500, httpsAgent: fcm.agent });
  });

  afterEach(() => fcm.clearFaults());

  afterAll(async () => {
    await provider.close();
    await fcm.stop();
  });

  const message = (tokens: [string, "android" | "ios" | "web"][]) => ({
    devices: tokens.map(([token, platform]) => ({ token, platform })),
    title: "Order 42",
    body: "It shipped",
    data: { order_id: "42" },
    image: "https://cdn.example.com/42.png",
    urgent: false,
    deliveryId: "d-1",
  });

  it("gets an OAuth token signed with the service account's key, then sends to each device with it", async () => {
    const receipt = await provider.send(message([["tok-a", "android"], ["tok-i", "ios"]]));
    expect(receipt.devices.map((d) => [d.token, d.status])).toEqual([
      ["tok-a", "sent"],
      ["tok-i", "sent"],
    ]);
    expect(receipt.devices[0]!.message_id).toMatch(/^projects\/herald-test\/messages\//);
    expect(fcm.issuedTokens).toHaveLength(1);
    const android = fcm.received.find((m) => m.token === "tok-a")!;
    expect(android).toMatchObject({ notification: { title: "Order 42", body: "It shipped", image: "https://cdn.example.com/42.png" }, data: { order_id: "42" } });
    expect(fcm.received.find((m) => m.token === "tok-i")!.apns).toMatchObject({ payload: { aps: { "mutable-content": 1 } } });
    // The token is cached: a second send asks for no new one.
    await provider.send(message([["tok-a", "android"]]));
    expect(fcm.issuedTokens).toHaveLength(1);
  });

  it("reports each device's fate: unregistered and invalid tokens, retryable server errors", async () => {
    fcm.behave("dead", "unregistered");
    fcm.behave("bad", "invalid_token");
    fcm.behave("flaky", "internal");
    fcm.behave("refused", "invalid_message");
    const receipt = await provider.send(message([["ok", "web"], ["dead", "android"], ["bad", "ios"], ["flaky", "android"], ["refused", "web"]]));
    expect(Object.fromEntries(receipt.devices.map((d) => [d.token, `${d.status} ${d.error_code ?? ""}`.trim()]))).toEqual({
      ok: "sent",
      dead: "invalid_token fcm_registration_token_not_registered",
      bad: "invalid_token fcm_invalid_registration_token",
      flaky: "retryable fcm_internal_error",
      refused: "rejected fcm_invalid_argument",
    });
  });

  it("times a hung device out on its own, without holding back the others", async () => {
    fcm.behave("slow", "hang");
    const started = Date.now();
    const receipt = await provider.send(message([["slow", "android"], ["fast", "android"]]));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(receipt.devices.map((d) => `${d.token} ${d.status} ${d.error_code ?? ""}`.trim())).toEqual(["slow retryable fcm_network_timeout", "fast sent"]);
  });

  it("fails every device as retryable when the OAuth endpoint refuses the service account", async () => {
    const other = new FakeFcm();
    const wrongKey = new FcmPushProvider({
      serviceAccount: { ...loadServiceAccount(fcm.serviceAccountJson), private_key: other.serviceAccount.private_key },
      timeoutMs: 5000,
      httpsAgent: fcm.agent,
    });
    try {
      const receipt = await wrongKey.send(message([["tok-a", "android"]]));
      expect(receipt.devices[0]).toMatchObject({ status: "retryable", error_code: "fcm_invalid_credential" });
    } finally {
      await wrongKey.close();
    }
  });
});
