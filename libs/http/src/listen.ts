import type { Server } from "node:http";
import type { Express } from "express";

/** Listens and resolves with the server; close() stops accepting and waits for open requests. */
export async function listen(app: Express, port: number, host = "0.0.0.0"): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
    s.once("error", reject);
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
