import { runChannelWorker } from "@herald/delivery";

/** webhook.queue: signed webhooks and Slack over HTTPS, behind the SSRF guard. */
runChannelWorker("webhook-worker", ["webhook", "slack"], (config) => config.ports.webhookWorker);
