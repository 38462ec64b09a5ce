import net from "node:net";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";

export interface ReceivedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string | undefined;
  messageId: string | undefined;
  headers: Record<string, string>;
  at: number;
}

export type SmtpFault =
  | { mode: "reply"; code: number; message?: string }
  /** Accept the connection, then never answer DATA (a hung provider). */
  | { mode: "hang" }
  /** Accept the mail, but only after this many milliseconds (a slow provider). */
  | { mode: "delay"; ms: number };

/**
 * A whole-server outage: `refuse` (nothing listens: connection refused), `silent` (connections
 * are accepted and never greeted, as a wedged server or a black-holing middlebox does).
 */
export type SmtpOutage = "refuse" | "silent";

/**
 * An SMTP provider for tests, on smtp-server: records every mail it accepts, and can be told to
 * answer the next N mails (or all) with a 4xx/5xx reply, to hang mid-DATA, or to be away as a
 * whole (outage()). Every DATA attempt is timestamped, accepted or not, so tests can check retry
 * timing. Clients connect to a front listener that passes connections to smtp-server, so that an
 * outage can refuse or swallow connections on the same port.
 */
export class FakeSmtp {
  readonly received: ReceivedMail[] = [];
  /** Time of every DATA attempt (accepted or refused). */
  readonly attempts: number[] = [];
  private faults: { fault: SmtpFault; remaining: number }[] = [];
  private readonly server: SMTPServer;
  private front: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private mode: SmtpOutage | undefined;
  /** Connections opened to the front listener (accepted, whatever the outage). */
  connections = 0;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData: (stream, _session, callback) => {
        this.attempts.push(Date.now());
        const fault = this.takeFault();
        if (fault?.mode === "hang") {
          stream.resume();
          return;
        }
        simpleParser(stream)
          .then(async (mail) => {
            if (fault?.mode === "delay") await new Promise((r) => setTimeout(r, fault.ms));
            if (fault?.mode === "reply") {
              const error = new Error(fault.message ?? `fault ${fault.code}`) as Error & { responseCode: number };
              error.responseCode = fault.code;
              callback(error);
              return;
            }
            const headers: Record<string, string> = {};
            for (const [k, v] of mail.headers) headers[k] = typeof v === "string" ? v : JSON.stringify(v);
            this.received.push({
              to: Array.isArray(mail.to) ? mail.to.map((t) => t.text).join(", ") : (mail.to?.text ?? ""),
              from: mail.from?.text ?? "",
              subject: mail.subject ?? "",
              text: mail.text ?? "",
              html: typeof mail.html === "string" ? mail.html : undefined,
              messageId: mail.messageId,
              headers,
              at: Date.now(),
            });
            callback();
          })
          .catch((error: unknown) => callback(error as Error));
      },
    });
    this.server.on("error", () => undefined);
  }

  async start(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", () => resolve()));
    await this.listenFront(port);
    return this.port;
  }

  /** The server as a whole goes away (refuse, silent), or comes back (undefined). */
  async outage(mode: SmtpOutage | undefined): Promise<void> {
    const was = this.mode;
    this.mode = mode;
    if (mode === "refuse" && was !== "refuse") await this.closeFront();
    if (mode !== "refuse" && was === "refuse") await this.listenFront(this.port);
    // Silent is a black hole for the connections already open too: nothing more reaches them.
    if (mode === "silent") for (const socket of this.sockets) socket.unpipe();
    // Back: the connections that went silent are cut (a client would have given up on them).
    if (mode === undefined && was === "silent") for (const socket of this.sockets) socket.destroy();
  }

  private async listenFront(port: number): Promise<void> {
    const inner = (this.server.server.address() as net.AddressInfo).port;
    const front = net.createServer((client) => {
      this.connections += 1;
      this.sockets.add(client);
      client.on("close", () => this.sockets.delete(client));
      client.on("error", () => client.destroy());
      // Silent: the connection is held open and never greeted.
      if (this.mode === "silent") return;
      const upstream = net.connect(inner, "127.0.0.1");
      upstream.on("error", () => upstream.destroy());
      this.sockets.add(upstream);
      upstream.on("close", () => this.sockets.delete(upstream));
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      front.once("error", reject);
      front.listen(port, "127.0.0.1", () => resolve());
    });
    this.front = front;
    this.port = (front.address() as net.AddressInfo).port;
  }

  private async closeFront(): Promise<void> {
    const front = this.front;
    this.front = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (front) await new Promise<void>((resolve) => front.close(() => resolve()));
  }

  /** The next `count` mails get this fault (Infinity: until cleared). */
  fail(fault: SmtpFault, count = Infinity): void {
    this.faults.push({ fault, remaining: count });
  }

  clearFaults(): void {
    this.faults = [];
  }

  async stop(): Promise<void> {
    await this.closeFront();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(): SmtpFault | undefined {
    const head = this.faults[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) this.faults.shift();
    return head.fault;
  }
}

/** A port with nothing listening on it (connection refused). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
