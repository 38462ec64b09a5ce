import type { Config } from "@herald/config";

export interface ProcessSpec {
  name: string;
  /** apps/<app>/dist/main.js */
  app: string;
  /** Port of its /health/ready. */
  port: number;
}

/** The processes `npm start` runs. Adding a worker is one line here. */
export function processesFor(config: Config): ProcessSpec[] {
  const specs: ProcessSpec[] = [
    { name: "user-service", app: "user-service", port: config.ports.userService },
    { name: "template-service", app: "template-service", port: config.ports.templateService },
    { name: "api-gateway", app: "api-gateway", port: config.ports.gateway },
    { name: "email-worker", app: "email-worker", port: config.ports.emailWorker },
    { name: "push-worker", app: "push-worker", port: config.ports.pushWorker },
    { name: "sms-worker", app: "sms-worker", port: config.ports.smsWorker },
    { name: "webhook-worker", app: "webhook-worker", port: config.ports.webhookWorker },
  ];
  if (!config.smtp.host) specs.unshift({ name: "dev-inbox", app: "dev-inbox", port: config.ports.devInbox });
  return specs;
}
