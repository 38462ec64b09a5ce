import { loadConfigOrExit } from "@herald/config";
import { createHttpApp, listen } from "@herald/http";
import { WORK_QUEUES } from "@herald/messaging";
import { openRuntime, runMain } from "@herald/runtime";
import { startWebhookWorker } from "./start";

runMain("webhook-worker", async () => {
  const config = loadConfigOrExit();
  const runtime = await openRuntime({ service: "webhook-worker", config });
  if (config.webhook.allowPrivate !== "none" && config.env === "production") {
    runtime.logger.warn("WEBHOOK_ALLOW_PRIVATE is on in production: webhooks may reach internal addresses");
  }
  const worker = await startWebhookWorker(runtime);
  const app = createHttpApp({ service: "webhook-worker", logger: runtime.logger, registry: runtime.registry, checks: runtime.checks, healthDetails: () => worker.health() });
  const http = await listen(app, config.ports.webhookWorker);
  runtime.releasers.add("http", () => http.close());
  runtime.logger.info("webhook-worker consuming", { queue: WORK_QUEUES.webhook.queue, private_addresses: config.webhook.allowPrivate, port: http.port });
  return runtime.releasers;
});
