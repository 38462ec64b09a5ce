import type { Config } from "@herald/config";

/** The real providers, then (SANDBOX_FALLBACK, never in production) the sandbox as the last resort. */
export function withSandboxFallback<P>(config: Config, real: P[], sandbox: () => P): P[] {
  return config.sandboxFallback && real.length > 0 ? [...real, sandbox()] : real;
}
