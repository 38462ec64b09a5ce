import net from "node:net";

/** One HTTP/1.1 request written byte for byte, so a test can lie about framing (Content-Length, encodings). */
export interface RawRequest {
  method: string;
  /** The request target exactly as sent (already percent-encoded, or not). */
  target: string;
  headers: [name: string, value: string][];
  body?: Buffer;
  /**
   * How the body is framed: `length` (a true Content-Length, the default), `chunked`, `short`
   * (Content-Length below the bytes sent), `long` (Content-Length above them: the body never
   * completes), or `none` (no framing header at all).
   */
  framing?: "length" | "chunked" | "short" | "long" | "none";
}

export type RawAnswer =
  | { kind: "answer"; status: number; headers: Record<string, string>; body: string; ms: number }
  /** The connection closed or failed before a whole answer arrived. */
  | { kind: "no_answer"; error: string; ms: number }
  /** Nothing within the bound: the server hangs. */
  | { kind: "hang"; ms: number };

/** Whether a connection can carry another request after this one (its framing does not lie). */
const reusable = (request: RawRequest) => request.framing === undefined || request.framing === "length" || request.framing === "chunked";

function encode(request: RawRequest, keepAlive: boolean): Buffer {
  const body = request.body ?? Buffer.alloc(0);
  const framing = request.framing ?? "length";
  const lines = [`${request.method} ${request.target} HTTP/1.1`, "Host: 127.0.0.1", `Connection: ${keepAlive ? "keep-alive" : "close"}`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  let payload = body;
  if (framing === "length") lines.push(`Content-Length: ${body.length}`);
  if (framing === "short") lines.push(`Content-Length: ${Math.max(0, body.length - 1 - (body.length >> 2))}`);
  if (framing === "long") lines.push(`Content-Length: ${body.length + 1 + (body.length >> 1)}`);
  if (framing === "chunked") {
    lines.push("Transfer-Encoding: chunked");
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 1000) {
      const chunk = body.subarray(i, i + 1000);
      chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
    }
    chunks.push(Buffer.from("0\r\n\r\n"));
    payload = Buffer.concat(chunks);
  }
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), payload]);
}

/** The body of a chunked answer, or undefined while it is incomplete. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** The first whole answer in `data`, or undefined while it is incomplete (`ended`: the peer closed). */
function parseAnswer(all: Buffer, ended: boolean): { status: number; headers: Record<string, string>; body: Buffer } | undefined {
  let data = all;
  // Interim answers (100 Continue) come before the answer.
  while (/^HTTP\/1\.[01] 1\d\d /.test(data.subarray(0, 13).toString("latin1"))) {
    const interim = data.indexOf("\r\n\r\n");
    if (interim < 0) return undefined;
    data = data.subarray(interim + 4);
  }
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine, ...headerLines] = data.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1]);
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(end + 4);
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const body = dechunk(rest);
    return body ? { status, headers, body } : undefined;
  }
  if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    return rest.length >= length ? { status, headers, body: rest.subarray(0, length) } : undefined;
  }
  if (status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
  return ended ? { status, headers, body: rest } : undefined;
}

/**
 * A client for one request at a time on 127.0.0.1:port: requests whose framing is honest share a
 * kept-alive connection (as real clients do), the others get a connection of their own.
 * `send` resolves `hang` when no whole answer came within `hangMs` (a bound only a server that
 * hangs exceeds).
 */
export class RawClient {
  private socket: net.Socket | undefined;

  constructor(
    private readonly port: number,
    private readonly hangMs: number,
  ) {}

  send(request: RawRequest): Promise<RawAnswer> {
    const keepAlive = reusable(request);
    let socket = keepAlive ? this.socket : undefined;
    if (!socket || socket.destroyed) {
      socket = net.connect(this.port, "127.0.0.1");
      socket.on("error", () => undefined);
      if (keepAlive) this.socket = socket;
    }
    return this.exchange(socket, encode(request, keepAlive), keepAlive);
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private exchange(socket: net.Socket, bytes: Buffer, keepAlive: boolean): Promise<RawAnswer> {
    const started = Date.now();
    return new Promise<RawAnswer>((resolve) => {
      let data: Buffer = Buffer.alloc(0);
      let settled = false;
      const finish = (answer: RawAnswer, keep: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off("data", onData).off("end", onEnd).off("error", onError).off("close", onEnd);
        if (!keep) {
          socket.destroy();
          if (this.socket === socket) this.socket = undefined;
        }
        resolve(answer);
      };
      const timer = setTimeout(() => finish({ kind: "hang", ms: Date.now() - started }, false), this.hangMs);
      const check = (ended: boolean, error?: string) => {
        const answer = parseAnswer(data, ended);
        if (answer) {
          const keep = keepAlive && !ended && answer.headers.connection?.toLowerCase() !== "close";
          finish({ kind: "answer", status: answer.status, headers: answer.headers, body: answer.body.toString("utf8"), ms: Date.now() - started }, keep);
        } else if (ended) {
          finish({ kind: "no_answer", error: error ?? "closed before a whole answer", ms: Date.now() - started }, false);
        }
      };
      const onData = (chunk: Buffer) => {
        data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
        check(false);
      };
      const onEnd = () => check(true);
      // A server may answer early (413, 415) and close while the body is still being written.
      const onError = (error: Error) => check(true, error.message);
      socket.on("data", onData).on("end", onEnd).on("error", onError).on("close", onEnd);
      socket.write(bytes, () => undefined);
    });
  }
}

/** One request on a connection of its own. */
export async function rawRequest(port: number, request: RawRequest, hangMs: number): Promise<RawAnswer> {
  const client = new RawClient(port, hangMs);
  try {
    return await client.send({ ...request, framing: request.framing ?? "length" });
  } finally {
    client.close();
  }
}
