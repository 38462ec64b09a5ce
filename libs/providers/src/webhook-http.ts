import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { PermanentDeliveryError, RetryableDeliveryError, type DeliveryError } from "@herald/errors";
import tls from "node:tls";
import { refusedUnder, type PrivateAccess } from "./webhook-address";

/** Resolves a host name to every address it has (dns.lookup by default). */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface HttpPosterOptions {
  /** Prefix of every error code: webhook_timeout, slack_timeout, ... */
  name: string;
  timeoutMs: number;
  /**
   * Which non-public addresses may be reached (the SSRF guard): "none", "loopback" (127.0.0.0/8
   * and ::1 only; link-local, metadata, private and shared ranges stay refused) or "all" (guard
   * off). true and false are "all" and "none".
   */
  allowPrivate: PrivateAccess | boolean;
  /** Connections per destination host. */
  maxSockets: number;
  resolver?: Resolver;
  /** The only certificate authorities HTTPS trusts, instead of the system's (tests, private CAs). */
  ca?: string;
  /**
   * Opens the TCP connection (net.connect by default). Tests give one that refuses anything but
   * loopback, so a broken guard can never send traffic off the machine.
   */
  connect?: Connector;
}

/** What opens a webhook's TCP connection: net.connect's options (host, port, the guarded lookup). */
export type Connector = (options: net.TcpNetConnectOpts) => net.Socket;

/** What the webhook and Slack providers are made with (WEBHOOK_* settings, and test hooks). */
export type HttpProviderOptions = Omit<HttpPosterOptions, "name" | "maxSockets"> & {
  /** Sends in flight at once, and connections per destination host. */
  concurrency: number;
};

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The first 2 KB of the answer's body, for error messages. */
  body: string;
}

const BODY_KEPT = 2048;

class AddressRefused extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    const kind = reason.replace("_", "-");
    const what = `${/^[aeiu]/.test(kind) ? "an" : "a"} ${kind} address`;
    super(`${host === address ? `${address} is ${what}` : `${host} resolves to ${address}, ${what}`}, which webhooks may not reach`);
  }
}

class Timeout extends Error {}

const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/;
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME"]);

/**
 * POSTs a JSON body to a URL for the webhook and Slack providers: never follows redirects, gives up
 * after the timeout (connect, answer and body together), and refuses to connect to any address
 * that is not public, except loopback where allowed ("loopback") and unless the guard is off ("all"). The check is made on the
 * addresses the connection is actually opened to (a `lookup` of our own on the request, and the
 * socket's remote address once connected), so DNS rebinding between a check and the connect
 * cannot slip through. Failures come out as DeliveryErrors; answers of any status as HttpAnswer.
 */
export class HttpPoster {
  private agents: { http: http.Agent; https: https.Agent };
  private readonly resolver: Resolver;
  private readonly access: PrivateAccess;

  constructor(private readonly options: HttpPosterOptions) {
    this.access = options.allowPrivate === true ? "all" : options.allowPrivate === false ? "none" : options.allowPrivate;
    this.agents = this.createAgents();
    this.resolver = options.resolver ?? systemResolver;
  }

  private createAgents(): { http: http.Agent; https: https.Agent } {
    const agentOptions = { keepAlive: true, maxSockets: this.options.maxSockets, scheduling: "lifo" as const };
    const agents = {
      http: new http.Agent(agentOptions),
      https: new https.Agent({ ...agentOptions, ...(this.options.ca ? { ca: this.options.ca } : {}) }),
    };
    const connect = this.options.connect;
    if (connect) {
      type Create = (options: net.TcpNetConnectOpts & tls.ConnectionOptions) => net.Socket;
      (agents.http as unknown as { createConnection: Create }).createConnection = (options) => connect(options);
      (agents.https as unknown as { createConnection: Create }).createConnection = (options) => tls.connect({ ...options, socket: connect(options) });
    }
    return agents;
  }

  /** Destroys every connection (a call missed the worker's deadline); the next post connects afresh. */
  reset(): void {
    const old = this.agents;
    this.agents = this.createAgents();
    old.http.destroy();
    old.https.destroy();
  }

  async post(target: string, body: string, headers: Record<string, string>): Promise<HttpAnswer> {
    const { name } = this.options;
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new PermanentDeliveryError(`${name}_invalid_url`, "the URL does not parse");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new PermanentDeliveryError(`${name}_invalid_url`, `${url.protocol} URLs are not supported; use https://`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (net.isIP(host) !== 0) {
      const reason = refusedUnder(this.access, host);
      if (reason) throw this.classify(new AddressRefused(host, host, reason));
    }
    try {
      return await this.request(url, host, body, headers);
    } catch (error) {
      throw this.classify(error);
    }
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private request(url: URL, host: string, body: string, headers: Record<string, string>): Promise<HttpAnswer> {
    const payload = Buffer.from(body, "utf8");
    const secure = url.protocol === "https:";
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = (secure ? https : http).request(url, {
        method: "POST",
        agent: secure ? this.agents.https : this.agents.http,
        headers: { "Content-Type": "application/json", "User-Agent": "Herald-Webhooks/1.0", ...headers, "Content-Length": String(payload.length) },
        lookup: this.guardedLookup,
      });
      const timer = setTimeout(() => req.destroy(new Timeout(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      req.on("error", fail);
      if (this.access !== "all") {
        req.on("socket", (socket) => {
          const check = () => {
            const address = socket.remoteAddress;
            const reason = address ? refusedUnder(this.access, address) : "reserved";
            if (reason) req.destroy(new AddressRefused(host, address ?? "an unknown address", reason));
          };
          if (socket.connecting) socket.once("connect", check);
          else check();
        });
      }
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on("data", (chunk: Buffer) => {
          if (kept < BODY_KEPT) chunks.push(chunk);
          kept += chunk.length;
        });
        res.on("error", fail);
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8").slice(0, BODY_KEPT) });
        });
      });
      req.end(payload);
    });
  }

  /** net's lookup, through the resolver, refusing any host that has an address the access level does not allow. */
  private readonly guardedLookup: net.LookupFunction = (hostname, options, callback) => {
    this.resolver(hostname).then(
      (found) => {
        const addresses = options.family ? found.filter((a) => a.family === options.family) : found;
        if (addresses.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
          return;
        }
        for (const { address } of addresses) {
          const reason = refusedUnder(this.access, address);
          if (reason) {
            callback(new AddressRefused(hostname, address, reason), "", 0);
            return;
          }
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };

  private classify(error: unknown): DeliveryError {
    const { name } = this.options;
    if (error instanceof AddressRefused) return new PermanentDeliveryError(`${name}_address_refused`, error.message, { cause: error });
    if (error instanceof Timeout) return new RetryableDeliveryError(`${name}_timeout`, error.message, { cause: error });
    const raw = (error as { code?: unknown } | null)?.code;
    const code = typeof raw === "string" ? raw : "";
    const text = error instanceof Error ? error.message : String(error);
    if (DNS_CODES.has(code)) return new RetryableDeliveryError(`${name}_dns_failed`, text, { cause: error });
    if (TLS_CODES.test(code)) return new PermanentDeliveryError(`${name}_tls_failed`, text, { cause: error });
    return new RetryableDeliveryError(`${name}_connection_failed`, text || code, { cause: error });
  }
}

/** What the webhook and Slack providers share: a name (the breaker's key), a concurrency, a poster. */
export abstract class HttpProvider {
  readonly concurrency: number;
  readonly deadlineMs: number;
  protected readonly poster: HttpPoster;

  protected constructor(
    readonly name: string,
    { concurrency, ...options }: HttpProviderOptions,
  ) {
    this.concurrency = concurrency;
    this.deadlineMs = options.timeoutMs;
    this.poster = new HttpPoster({ name, maxSockets: concurrency, ...options });
  }

  reset(): void {
    this.poster.reset();
  }

  close(): Promise<void> {
    this.poster.close();
    return Promise.resolve();
  }
}

/**
 * What an answer means for the delivery, or undefined when it was accepted (2xx). A redirect is
 * permanent and never followed; 408, 429 and 5xx may work later; any other status will not.
 */
export function answerError(name: string, answer: HttpAnswer): DeliveryError | undefined {
  const { status } = answer;
  if (status >= 200 && status < 300) return undefined;
  const said = answer.body.trim().slice(0, 200);
  const text = `answered HTTP ${status}${said ? `: ${said}` : ""}`;
  if (status >= 300 && status < 400) {
    const location = typeof answer.headers.location === "string" ? ` to ${answer.headers.location}` : "";
    return new PermanentDeliveryError(`${name}_redirect`, `answered HTTP ${status} redirecting${location}; redirects are not followed`);
  }
  if (status === 408 || status === 429 || status >= 500) return new RetryableDeliveryError(`${name}_http_${status}`, text);
  return new PermanentDeliveryError(`${name}_http_${status}`, text);
}
