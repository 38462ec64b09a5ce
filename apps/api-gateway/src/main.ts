import cluster from "node:cluster";
import { loadConfigOrExit } from "@herald/config";
import { listen } from "@herald/http";
import { openRuntime, runClustered } from "@herald/runtime";
import { createGateway } from "./server";

const config = loadConfigOrExit();

if (config.generatedApiKey && config.gateway.processes > 1 && cluster.isPrimary) {
  process.stdout.write(`${JSON.stringify({ level: "warn", message: "API_KEYS is unset: using a generated development key", service: "api-gateway", api_key: config.generatedApiKey })}\n`);
}

// GATEWAY_PROCESSES copies behind one port: a copy that dies costs only its own requests in flight.
runClustered(
  "api-gateway",
  config.gateway.processes,
  async () => {
    const runtime = await openRuntime({ service: "api-gateway", config, waitForBroker: false, poolSize: Math.max(config.database.poolSize, 20) });
    const { app } = await createGateway(runtime);
    const http = await listen(app, config.ports.gateway);
    runtime.releasers.add("http", () => http.close());
    runtime.logger.info("api-gateway listening", { port: http.port, pid: process.pid });
    if (config.generatedApiKey) runtime.logger.warn("API_KEYS is unset: using a generated development key", { api_key: config.generatedApiKey });
    return runtime.releasers;
  },
  config.generatedApiKey ? { API_KEYS: config.generatedApiKey } : {},
);
