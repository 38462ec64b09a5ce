import { runChannelWorker } from "@herald/delivery";

/** email.queue: email over SMTP (SMTP_URLS or SMTP_HOST, else the dev inbox). */
runChannelWorker("email-worker", ["email"], (config) => config.ports.emailWorker);
