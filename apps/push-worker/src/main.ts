import { loadConfigOrExit } from "@herald/config";
import { createHttpApp, listen } from "@herald/http";
import { WORK_QUEUES } from "@herald/messaging";
import { openRuntime, runMain } from "@herald/runtime";
import { startPushWorker } from "./start";

runMain("push-worker", async () => {
  const config = loadConfigOrExit();
  const runtime = await openRuntime({ service: "push-worker", config });
  const { worker, provider } = await startPushWorker(runtime);
  const app = createHttpApp({ service: "push-worker", logger: runtime.logger, registry: runtime.registry, checks: runtime.checks, healthDetails: () => worker.health() });
  const http = await listen(app, config.ports.pushWorker);
  runtime.releasers.add("http", () => http.close());
  runtime.logger.info("push-worker consuming", { queue: WORK_QUEUES.push.queue, provider: provider.name, port: http.port });
  return runtime.releasers;
});
