import type { Redis } from "@herald/cache";
import type { Config } from "@herald/config";
import type { Database } from "@herald/db";
import type { Logger } from "@herald/logger";
import type { ChannelContext, ChannelProvider, ProviderHooks } from "./definition";

/**
 * The context channels build their providers in, for one process: providers made under one key
 * are made once (sms and whatsapp share a Twilio client), and `providersToClose()` lists every
 * provider made, for the process's shutdown.
 */
export function channelContext(
  deps: { config: Config; db: Database; redis: Redis; logger: Logger },
  hooks: ProviderHooks = {},
): ChannelContext & { providersToClose(): ChannelProvider[] } {
  const made = new Map<string, object>();
  return {
    ...deps,
    hooks,
    shared: <T extends object>(key: string, make: () => T): T => {
      let value = made.get(key) as T | undefined;
      if (!value) {
        value = make();
        made.set(key, value);
      }
      return value;
    },
    providersToClose: () => [...made.values()].filter((v): v is ChannelProvider => typeof (v as Partial<ChannelProvider>).close === "function" && "deadlineMs" in v),
  };
}
