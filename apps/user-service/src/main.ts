import { loadConfigOrExit } from "@herald/config";
import { listen } from "@herald/http";
import { openRuntime, runMain } from "@herald/runtime";
import { createUserServiceApp } from "./server";

runMain("user-service", async () => {
  const config = loadConfigOrExit();
  const runtime = await openRuntime({ service: "user-service", config, waitForBroker: false });
  const http = await listen(createUserServiceApp(runtime), config.ports.userService);
  runtime.releasers.add("http", () => http.close());
  runtime.logger.info("user-service listening", { port: http.port });
  return runtime.releasers;
});
