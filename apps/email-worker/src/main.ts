import { loadConfigOrExit } from "@herald/config";
import { startDeliveryWorker } from "@herald/delivery";
import { createHttpApp, listen } from "@herald/http";
import { WORK_QUEUES } from "@herald/messaging";
import { openRuntime, runMain } from "@herald/runtime";
import { emailHandler } from "./email-handler";
import { emailProviderFor } from "./provider";

runMain("email-worker", async () => {
  const config = loadConfigOrExit();
  const runtime = await openRuntime({ service: "email-worker", config });
  const provider = emailProviderFor(config);
  runtime.releasers.add("smtp", () => provider.close());
  const worker = await startDeliveryWorker(runtime, {
    queue: WORK_QUEUES.email.queue,
    handlers: [emailHandler(provider, config.smtp.from)],
  });
  const app = createHttpApp({ service: "email-worker", logger: runtime.logger, registry: runtime.registry, checks: runtime.checks, healthDetails: () => worker.health() });
  const http = await listen(app, config.ports.emailWorker);
  runtime.releasers.add("http", () => http.close());
  runtime.logger.info("email-worker consuming", { queue: WORK_QUEUES.email.queue, provider: provider.name, port: http.port });
  return runtime.releasers;
});
