import type https from "node:https";
import { startDeliveryWorker, type DeliveryWorker } from "@herald/delivery";
import { WORK_QUEUES } from "@herald/messaging";
import type { Runtime } from "@herald/runtime";
import { textHandlersFor } from "./provider";

/** The SMS worker on an open runtime: sms.queue (sms and whatsapp), Twilio or the sandbox. */
export async function startSmsWorker(runtime: Runtime, options: { httpsAgent?: https.Agent } = {}): Promise<{ worker: DeliveryWorker; providers: string[] }> {
  const { handlers, providers } = textHandlersFor(runtime, options);
  for (const provider of providers) runtime.releasers.add(`${provider.name} provider`, () => provider.close());
  const worker = await startDeliveryWorker(runtime, { queue: WORK_QUEUES.sms.queue, handlers });
  return { worker, providers: handlers.map((h) => `${h.channel}: ${h.provider}`) };
}
