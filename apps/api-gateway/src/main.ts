import { loadConfigOrExit } from "@herald/config";
import { listen } from "@herald/http";
import { openRuntime, runMain } from "@herald/runtime";
import { createGateway } from "./server";

runMain("api-gateway", async () => {
  const config = loadConfigOrExit();
  const runtime = await openRuntime({ service: "api-gateway", config, waitForBroker: false, poolSize: Math.max(config.database.poolSize, 20) });
  const { app } = await createGateway(runtime);
  const http = await listen(app, config.ports.gateway);
  runtime.releasers.add("http", () => http.close());
  runtime.logger.info("api-gateway listening", { port: http.port });
  if (config.generatedApiKey) runtime.logger.warn("API_KEYS is unset: using a generated development key", { api_key: config.generatedApiKey });
  return runtime.releasers;
});
