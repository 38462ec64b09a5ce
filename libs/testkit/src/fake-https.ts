import https from "node:https";
import type http from "node:http";
import type net from "node:net";
import type tls from "node:tls";
import { TEST_TLS } from "./test-tls";

/**
 * An https.Agent that connects every request for `hosts` to a local HTTPS server presenting
 * TEST_TLS's certificate (trusted as the only CA; the name check is skipped, the certificate is
 * for 127.0.0.1) and fails any other host, so a provider library keeps its real URLs and nothing
 * leaves the machine.
 */
export function routingAgent(hosts: readonly string[], port: number): https.Agent {
  class RoutingAgent extends https.Agent {
    override createConnection(options: tls.ConnectionOptions, callback?: (error: Error | null, socket: net.Socket) => void): net.Socket {
      const host = options.servername ?? options.host ?? "";
      if (!hosts.includes(host)) throw new Error(`the test agent only reaches ${hosts.join(", ")}, not ${host}`);
      const local = { ...options, host: "127.0.0.1", port, servername: host, ca: TEST_TLS.cert, checkServerIdentity: () => undefined };
      return (super.createConnection as (o: tls.ConnectionOptions, cb?: typeof callback) => net.Socket)(local, callback);
    }
  }
  return new RoutingAgent({ keepAlive: true });
}

/**
 * The common part of a fake provider HTTPS API: a local server, an agent that reaches it under the
 * provider's real host names, and faults that apply to the next N requests (then the per-request
 * behaviour of the subclass). Every request is timestamped in `attempts`, answered or not.
 */
export abstract class FakeHttpApi<Fault> {
  readonly attempts: number[] = [];
  port = 0;
  private agentInstance: https.Agent | undefined;
  private faults: { fault: Fault; remaining: number }[] = [];
  private readonly server: https.Server;

  protected constructor(private readonly hosts: readonly string[]) {
    this.server = https.createServer({ key: TEST_TLS.key, cert: TEST_TLS.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        Promise.resolve(this.handle(req, Buffer.concat(chunks).toString("utf8"), res)).catch((error: unknown) => {
          if (!res.headersSent) this.reply(res, 500, { error: String(error) });
        });
      });
    });
  }

  /** The agent to give the provider client: it reaches this fake under the real host names. */
  get agent(): https.Agent {
    if (!this.agentInstance) throw new Error("start the fake first");
    return this.agentInstance;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
    this.agentInstance = routingAgent(this.hosts, this.port);
    return this.port;
  }

  /** The next `count` requests (Infinity: until cleared) get this fault. */
  fail(fault: Fault, count = Infinity): void {
    this.faults.push({ fault, remaining: count });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Stops listening and cuts every connection, hanging requests included. */
  async stop(): Promise<void> {
    this.agentInstance?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  protected abstract handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void | Promise<void>;

  protected takeFault(): Fault | undefined {
    const head = this.faults[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.faults.shift();
    return head.fault;
  }

  protected reply(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }
}
