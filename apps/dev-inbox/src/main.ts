import { loadConfigOrExit } from "@herald/config";
import { createHttpApp, listen } from "@herald/http";
import { DevInbox } from "@herald/providers";
import { openRuntime, runMain } from "@herald/runtime";

/** The dev inbox: catches every mail sent to DEV_SMTP_PORT (when SMTP_HOST is unset). */
runMain("dev-inbox", async () => {
  const config = loadConfigOrExit();
  const runtime = await openRuntime({ service: "dev-inbox", config, waitForBroker: false });
  const inbox = new DevInbox(runtime.db, { port: config.ports.devSmtp, host: config.devSmtpHost });
  const port = await inbox.start();
  runtime.releasers.add("smtp server", () => inbox.close());
  const app = createHttpApp({ service: "dev-inbox", logger: runtime.logger, registry: runtime.registry, checks: runtime.checks });
  const http = await listen(app, config.ports.devInbox);
  runtime.releasers.add("http", () => http.close());
  runtime.logger.info("dev inbox catching mail", { smtp_port: port, http_port: http.port });
  return runtime.releasers;
});
