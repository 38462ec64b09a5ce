import { loadConfigOrExit } from "@herald/config";
import { createHttpApp, listen } from "@herald/http";
import { WORK_QUEUES } from "@herald/messaging";
import { openRuntime, runMain } from "@herald/runtime";
import { startSmsWorker } from "./start";

runMain("sms-worker", async () => {
  const config = loadConfigOrExit();
  const runtime = await openRuntime({ service: "sms-worker", config });
  const { worker, providers } = await startSmsWorker(runtime);
  const app = createHttpApp({ service: "sms-worker", logger: runtime.logger, registry: runtime.registry, checks: runtime.checks, healthDetails: () => worker.health() });
  const http = await listen(app, config.ports.smsWorker);
  runtime.releasers.add("http", () => http.close());
  runtime.logger.info("sms-worker consuming", { queue: WORK_QUEUES.sms.queue, providers, port: http.port });
  return runtime.releasers;
});
