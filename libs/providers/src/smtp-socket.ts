import net from "node:net";

type GetSocket = (options: { host?: string; port?: number }, callback: (error: Error | null, socket?: { connection: net.Socket }) => void) => void;

/**
 * Opens nodemailer's connections ourselves, with Nagle's algorithm off. nodemailer writes the end
 * of a message (".\r\n") as a small packet of its own; with Nagle on, the kernel holds it until the
 * server acknowledges the previous one, and a server that delays its ACKs (Linux does, ~40 ms)
 * turns every message into a 40 ms wait: 111 mails/s instead of ~1,900 over 5 local connections,
 * measured here. TLS (implicit or STARTTLS) is layered by nodemailer on this socket as usual.
 */
export function noDelaySocket(connectTimeoutMs: number, opened?: (socket: net.Socket) => void): GetSocket {
  return (options, callback) => {
    let done = false;
    const finish = (error: Error | null, socket?: net.Socket) => {
      if (done) return;
      done = true;
      if (error) callback(error);
      else callback(null, { connection: socket! });
    };
    const socket = net.connect({ host: options.host ?? "127.0.0.1", port: options.port ?? 25 }, () => {
      socket.setTimeout(0);
      finish(null, socket);
    });
    opened?.(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.setTimeout(connectTimeoutMs, () => {
      const error = Object.assign(new Error(`connection to ${options.host}:${options.port} timed out`), { code: "ETIMEDOUT" });
      socket.destroy();
      finish(error);
    });
    socket.once("error", (error) => finish(error));
  };
}
