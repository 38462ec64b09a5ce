import type https from "node:https";
import { FcmPushProvider, loadServiceAccount, providerChoice, SandboxFaults, SandboxPushProvider, type PushProvider } from "@herald/providers";
import type { Runtime } from "@herald/runtime";

/** FIREBASE_SERVICE_ACCOUNT set: FCM; otherwise the sandbox (never in production). */
export function pushProviderFor(runtime: Runtime, options: { httpsAgent?: https.Agent } = {}): PushProvider {
  const { config, db, redis } = runtime;
  switch (providerChoice(config, "push")) {
    case "real":
      return new FcmPushProvider({
        serviceAccount: loadServiceAccount(config.firebase.serviceAccount ?? ""),
        timeoutMs: config.firebase.timeoutMs,
        ...(options.httpsAgent ? { httpsAgent: options.httpsAgent } : {}),
      });
    case "sandbox":
      return new SandboxPushProvider({ db, faults: new SandboxFaults(redis), timeoutMs: config.firebase.timeoutMs });
    case "unavailable":
      throw new Error("FIREBASE_SERVICE_ACCOUNT is required in production (the sandbox provider is never used in production)");
  }
}
