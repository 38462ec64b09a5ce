import http, { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { randomUUID } from "node:crypto";
import type { Express } from "express";
import { statusOf, type ErrorCode } from "@herald/errors";
import { RAW_SECURITY_HEADERS } from "./security";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "./timeout";

function envelope(code: ErrorCode, message: string): string {
  return JSON.stringify({ success: false, data: null, error: { code }, message, meta: { correlation_id: randomUUID() } });
}

/**
 * A request Node's parser refused before express saw it (a malformed request line or header,
 * headers over the size limit, headers that never finished): answered in the envelope too, then
 * the connection is closed, as Node would.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [code, message]: [ErrorCode, string] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? ["headers_too_large", "The request headers are too large"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT" || error.code === "ERR_HTTP_REQUEST_HEADERS_TIMEOUT"
        ? ["request_timeout", "The request did not arrive in time"]
        : ["validation_failed", "The request is not valid HTTP"];
  const status = statusOf(code);
  const body = envelope(code, message);
  const headers = { ...RAW_SECURITY_HEADERS, "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(body)), Connection: "close" };
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${Object.entries(headers).map(([n, v]) => `${n}: ${v}`).join("\r\n")}\r\n\r\n${body}`);
}

/** An Expect header other than 100-continue: 417 in the envelope (Node would answer with no body). */
function answerExpectation(_req: IncomingMessage, res: ServerResponse): void {
  const body = envelope("expectation_failed", "Only Expect: 100-continue is supported");
  res.writeHead(statusOf("expectation_failed"), { ...RAW_SECURITY_HEADERS, "Content-Type": "application/json; charset=utf-8", Connection: "close" });
  res.end(body);
}

/**
 * Listens and resolves with the server; close() stops accepting and waits for open requests.
 * Headers must arrive within the app's request timeout (HTTP_REQUEST_TIMEOUT, kept by
 * createHttpApp in app.locals) and a whole request within a few seconds more; the app itself
 * answers 408 for a body that is late (bodyTimeout), Node's limits are the backstop.
 */
export async function listen(app: Express, port: number, host = "0.0.0.0"): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const timeoutMs = (app.locals.requestTimeoutMs as number | undefined) ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = http.createServer(
    { headersTimeout: timeoutMs, requestTimeout: timeoutMs + 5000, connectionsCheckingInterval: Math.round(Math.max(250, Math.min(5000, timeoutMs / 3))) },
    app,
  );
  server.on("clientError", answerClientError);
  server.on("checkExpectation", answerExpectation);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.keepAliveTimeout = 65_000;
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  return {
    server,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
