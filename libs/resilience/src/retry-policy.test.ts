import { PermanentDeliveryError, RetryableDeliveryError } from "@herald/errors";
import { decideRetry, retryDelays } from "./retry-policy";

const policy = { maxRetries: 3, baseDelayMs: 2000 };
const temporary = new RetryableDeliveryError("smtp_451", "try later");

describe("the retry policy", () => {
  it("waits 2 s, 4 s, 8 s with the defaults, then dead-letters", () => {
    expect(retryDelays(policy)).toEqual([2000, 4000, 8000]);
    expect(decideRetry(policy, 1, temporary)).toEqual({ action: "retry", delayMs: 2000, retry: 1 });
    expect(decideRetry(policy, 2, temporary)).toEqual({ action: "retry", delayMs: 4000, retry: 2 });
    expect(decideRetry(policy, 3, temporary)).toEqual({ action: "retry", delayMs: 8000, retry: 3 });
    expect(decideRetry(policy, 4, temporary)).toEqual({ action: "dead_letter", reason: "exhausted" });
  });

  it("dead-letters a permanent error at once", () => {
    expect(decideRetry(policy, 1, new PermanentDeliveryError("smtp_550", "no such mailbox"))).toEqual({ action: "dead_letter", reason: "permanent" });
  });

  it("with no retries configured, the first failure is final", () => {
    expect(decideRetry({ maxRetries: 0, baseDelayMs: 100 }, 1, temporary)).toEqual({ action: "dead_letter", reason: "exhausted" });
    expect(retryDelays({ maxRetries: 0, baseDelayMs: 100 })).toEqual([]);
  });
});
