import { PermanentDeliveryError, RetryableDeliveryError } from "@herald/errors";
import { waitFor } from "@herald/testkit";
import { BreakerOpenError, ProviderBreaker } from "./breaker";

const fail = () => Promise.reject(new RetryableDeliveryError("down", "down"));
const ok = () => Promise.resolve("ok");

async function call(breaker: ProviderBreaker, fn: () => Promise<unknown>) {
  const permit = await breaker.acquire();
  return permit.fire(fn).catch((e: unknown) => e);
}

describe("ProviderBreaker", () => {
  let breaker: ProviderBreaker;
  afterEach(() => breaker.shutdown());

  it("opens after N consecutive failures, not N failures spread among successes", async () => {
    breaker = new ProviderBreaker("p", { failureThreshold: 3, recoveryTimeoutMs: 10_000 });
    await call(breaker, fail);
    await call(breaker, fail);
    await call(breaker, ok);
    await call(breaker, fail);
    await call(breaker, fail);
    expect(breaker.state).toBe("closed");
    await call(breaker, fail);
    expect(breaker.state).toBe("open");
    await expect(breaker.acquire()).rejects.toBeInstanceOf(BreakerOpenError);
  });

  it("does not count permanent errors", async () => {
    breaker = new ProviderBreaker("p", { failureThreshold: 2, recoveryTimeoutMs: 10_000 });
    for (let i = 0; i < 5; i += 1) await call(breaker, () => Promise.reject(new PermanentDeliveryError("bad", "bad address")));
    expect(breaker.state).toBe("closed");
  });

  it("half-opens after the recovery timeout and lets exactly one trial through; the others wait for it", async () => {
    breaker = new ProviderBreaker("p", { failureThreshold: 1, recoveryTimeoutMs: 50 });
    const events: string[] = [];
    for (const e of ["open", "half_open", "closed"]) breaker.on(e, () => events.push(e));
    await call(breaker, fail);
    await new Promise((r) => setTimeout(r, 80));
    expect(breaker.state).toBe("half_open");

    let releaseTrial!: () => void;
    const trialDone = new Promise<void>((r) => (releaseTrial = r));
    const trial = await breaker.acquire();
    const trialCall = trial.fire(() => trialDone.then(() => "ok"));
    let waiterGotIn = false;
    const waiter = breaker.acquire().then((permit) => {
      waiterGotIn = true;
      return permit.fire(ok);
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(waiterGotIn).toBe(false);
    releaseTrial();
    await trialCall;
    await expect(waiter).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
    expect(events).toEqual(["open", "half_open", "closed"]);
  });

  it("reopens when the trial fails, and turns away the callers that waited for it", async () => {
    breaker = new ProviderBreaker("p", { failureThreshold: 1, recoveryTimeoutMs: 50 });
    await call(breaker, fail);
    await new Promise((r) => setTimeout(r, 80));
    const trial = await breaker.acquire();
    const waiter = breaker.acquire();
    await trial.fire(fail).catch(() => undefined);
    await expect(waiter).rejects.toBeInstanceOf(BreakerOpenError);
    expect(breaker.state).toBe("open");
  });

  it("hands the trial to the next caller when the trial holder gives it back unused", async () => {
    breaker = new ProviderBreaker("p", { failureThreshold: 1, recoveryTimeoutMs: 50 });
    await call(breaker, fail);
    await new Promise((r) => setTimeout(r, 80));
    const trial = await breaker.acquire();
    const next = breaker.acquire();
    trial.release();
    const permit = await next;
    await expect(permit.fire(ok)).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
  });

  it("opens again when a trial hangs past its time limit, and turns away the callers that waited for it", async () => {
    breaker = new ProviderBreaker("p", { failureThreshold: 1, recoveryTimeoutMs: 50, trialTimeoutMs: 100 });
    const events: string[] = [];
    for (const e of ["open", "half_open", "closed"]) breaker.on(e, () => events.push(e));
    await call(breaker, fail);
    await waitFor(() => breaker.state === "half_open");
    const trial = await breaker.acquire();
    // The trial's call never ends (a provider that accepted TCP and never answers).
    void trial.fire(() => new Promise(() => undefined)).catch(() => undefined);
    const waiter = breaker.acquire();
    await expect(waiter).rejects.toBeInstanceOf(BreakerOpenError);
    expect(breaker.state).toBe("open");
    // ... and the next recovery period gives a new trial, which can close it.
    await waitFor(() => breaker.state === "half_open");
    await expect(call(breaker, ok)).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
    expect(events).toEqual(["open", "half_open", "open", "half_open", "closed"]);
  });

  it("opens again when a trial permit is held and never used", async () => {
    breaker = new ProviderBreaker("p", { failureThreshold: 1, recoveryTimeoutMs: 50, trialTimeoutMs: 100 });
    await call(breaker, fail);
    await waitFor(() => breaker.state === "half_open");
    await breaker.acquire();
    await expect(breaker.acquire()).rejects.toBeInstanceOf(BreakerOpenError);
  });
});
