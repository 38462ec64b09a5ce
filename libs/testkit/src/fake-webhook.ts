import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { TEST_TLS } from "./test-tls";

export interface ReceivedWebhook {
  method: string;
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The raw body, exactly as received (what a receiver verifies the signature over). */
  body: string;
  /** The status it was answered with (undefined: left hanging). */
  status: number | undefined;
  at: number;
}

export type WebhookFault =
  /** Answer with this status (and body, headers). */
  | { mode: "status"; status: number; body?: string; headers?: Record<string, string> }
  /** Answer with a redirect to `location`. */
  | { mode: "redirect"; location: string; status?: number }
  /** Read the request, then never answer (a hung receiver). */
  | { mode: "hang" }
  /** Answer 200 only after this many milliseconds. */
  | { mode: "delay"; ms: number };

/**
 * An HTTP receiver for webhook and Slack tests: records every request (headers, raw body, what it
 * answered) and can be told to answer the next N requests (or all) with a status, a redirect, a
 * delay, or not at all. Otherwise it answers 200 "ok", as Slack does. With `tls` it serves HTTPS
 * with TEST_TLS's certificate (for 127.0.0.1), which clients trust by taking TEST_TLS.cert as CA.
 */
export class FakeWebhook {
  /** Every request, answered or not, in arrival order. */
  readonly requests: ReceivedWebhook[] = [];
  private faults: { fault: WebhookFault; remaining: number }[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server: http.Server;
  private readonly tls: boolean;
  port = 0;

  constructor(options: { tls?: boolean } = {}) {
    this.tls = options.tls ?? false;
    const handler: http.RequestListener = (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(", ") : (value ?? "");
        const record: ReceivedWebhook = {
          method: req.method ?? "",
          path: req.url ?? "",
          headers,
          body: Buffer.concat(chunks).toString("utf8"),
          status: undefined,
          at: Date.now(),
        };
        this.requests.push(record);
        const answer = (status: number, body = "ok", extra: Record<string, string> = {}) => {
          record.status = status;
          res.writeHead(status, { "Content-Type": "text/plain", ...extra }).end(body);
        };
        const fault = this.takeFault();
        switch (fault?.mode) {
          case "hang":
            return;
          case "status":
            return answer(fault.status, fault.body ?? `status ${fault.status}`, fault.headers);
          case "redirect":
            return answer(fault.status ?? 302, "", { Location: fault.location });
          case "delay":
            setTimeout(() => answer(200), fault.ms);
            return;
          default:
            answer(200);
        }
      });
    };
    this.server = this.tls ? https.createServer({ key: TEST_TLS.key, cert: TEST_TLS.cert }, handler) : http.createServer(handler);
    this.server.on("connection", (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  /** The requests answered with a 2xx: what a receiver actually took. */
  get received(): ReceivedWebhook[] {
    return this.requests.filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300);
  }

  async start(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** A URL on this receiver. */
  url(path = "/hook"): string {
    return `${this.tls ? "https" : "http"}://127.0.0.1:${this.port}${path}`;
  }

  /** The next `count` requests get this fault (Infinity: until cleared). */
  fail(fault: WebhookFault, count = Infinity): void {
    this.faults.push({ fault, remaining: count });
  }

  clearFaults(): void {
    this.faults = [];
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(): WebhookFault | undefined {
    const head = this.faults[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.faults.shift();
    return head.fault;
  }
}

/**
 * A receiver's check of a Herald webhook, as docs/webhooks-and-dlq.md tells receivers to make it:
 * the timestamp within 5 minutes, and X-Signature equal (in constant time) to
 * sha256=HMAC-SHA256(secret, "<timestamp>.<raw body>") in hex.
 */
export function verifyWebhookSignature(secret: string, received: Pick<ReceivedWebhook, "headers" | "body">, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const timestamp = Number(received.headers["x-herald-timestamp"]);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(`${timestamp}.${received.body}`).digest("hex")}`);
  const given = Buffer.from(received.headers["x-signature"] ?? "");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
