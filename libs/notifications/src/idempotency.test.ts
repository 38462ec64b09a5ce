import { bodyHash } from "./idempotency";
import { overallStatus } from "./status";

describe("bodyHash", () => {
  it("is the same for the same body whatever the key order", () => {
    expect(bodyHash({ a: 1, b: { c: [1, 2], d: "x" } })).toBe(bodyHash({ b: { d: "x", c: [1, 2] }, a: 1 }));
  });
  it("differs when a value differs, and ignores undefined fields", () => {
    expect(bodyHash({ a: 1 })).not.toBe(bodyHash({ a: 2 }));
    expect(bodyHash({ a: 1, b: undefined })).toBe(bodyHash({ a: 1 }));
  });
});

describe("overallStatus", () => {
  it("is the least finished delivery's status", () => {
    expect(overallStatus(["sent", "retrying"])).toBe("retrying");
    expect(overallStatus(["sent", "suppressed"])).toBe("sent");
    expect(overallStatus(["dead_lettered", "sent"])).toBe("dead_lettered");
    expect(overallStatus(["suppressed"])).toBe("suppressed");
  });
});
