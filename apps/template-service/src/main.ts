import { loadConfigOrExit } from "@herald/config";
import { listen } from "@herald/http";
import { openRuntime, runMain } from "@herald/runtime";
import { createTemplateServiceApp } from "./server";

runMain("template-service", async () => {
  const config = loadConfigOrExit();
  const runtime = await openRuntime({ service: "template-service", config, waitForBroker: false });
  const http = await listen(createTemplateServiceApp(runtime), config.ports.templateService);
  runtime.releasers.add("http", () => http.close());
  runtime.logger.info("template-service listening", { port: http.port });
  return runtime.releasers;
});
