import { spawnSync } from "node:child_process";
import { hostPort, isListening, isLocalHost, waitForPort } from "./ports";
import type { StackLogger } from "./services";

/** Enables the management plugin (UI and HTTP API on :15672) if it is not serving yet. */
export async function ensureManagementPlugin(managementUrl: string, logger: StackLogger): Promise<boolean> {
  const { host, port } = hostPort(managementUrl, 15672);
  if (await isListening(host, port)) return true;
  if (!isLocalHost(host)) return false;
  const result = spawnSync("rabbitmq-plugins", ["enable", "rabbitmq_management"], { encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0) {
    logger.warn("could not enable the RabbitMQ management plugin", { output: `${result.stdout}${result.stderr}`.trim().slice(0, 500) });
    return false;
  }
  return waitForPort(host, port, 60_000);
}

/** A small client of the management HTTP API: vhosts (tests use one each) and queue depths. */
export class RabbitAdmin {
  private readonly base: string;
  private readonly auth: string;

  constructor(managementUrl: string) {
    const u = new URL(managementUrl);
    this.auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username || "guest")}:${decodeURIComponent(u.password || "guest")}`).toString("base64")}`;
    u.username = "";
    u.password = "";
    this.base = u.toString().replace(/\/$/, "");
  }

  private async call(method: string, path: string, body?: unknown): Promise<Response> {
    const response = await fetch(`${this.base}/api${path}`, {
      method,
      headers: { authorization: this.auth, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok && response.status !== 404) throw new Error(`RabbitMQ management ${method} ${path}: ${response.status} ${await response.text()}`);
    return response;
  }

  async createVhost(name: string, user = "guest"): Promise<void> {
    await this.call("PUT", `/vhosts/${encodeURIComponent(name)}`, {});
    await this.call("PUT", `/permissions/${encodeURIComponent(name)}/${encodeURIComponent(user)}`, { configure: ".*", write: ".*", read: ".*" });
  }

  async deleteVhost(name: string): Promise<void> {
    await this.call("DELETE", `/vhosts/${encodeURIComponent(name)}`);
  }

  async listVhosts(): Promise<string[]> {
    const response = await this.call("GET", "/vhosts");
    return ((await response.json()) as { name: string }[]).map((v) => v.name);
  }
}
