import type https from "node:https";
import { startDeliveryWorker, type DeliveryWorker } from "@herald/delivery";
import { WORK_QUEUES } from "@herald/messaging";
import type { PushProvider } from "@herald/providers";
import type { Runtime } from "@herald/runtime";
import { UserDirectory, UserService } from "@herald/users";
import { pushHandler } from "./push-handler";
import { pushProviderFor } from "./provider";

/** The push worker on an open runtime: push.queue, the push handler, FCM or the sandbox. */
export async function startPushWorker(runtime: Runtime, options: { httpsAgent?: https.Agent } = {}): Promise<{ worker: DeliveryWorker; provider: PushProvider }> {
  const { db, redis, logger, releasers } = runtime;
  const provider = pushProviderFor(runtime, options);
  releasers.add("push provider", () => provider.close());
  const users = new UserService(db, new UserDirectory(db, redis, logger));
  const worker = await startDeliveryWorker(runtime, { queue: WORK_QUEUES.push.queue, handlers: [pushHandler(provider, users)] });
  return { worker, provider };
}
