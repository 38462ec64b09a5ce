import type net from "node:net";
import nodemailer, { type Transporter } from "nodemailer";
import { PermanentDeliveryError, RetryableDeliveryError, type DeliveryError } from "@herald/errors";
import { noDelaySocket } from "./smtp-socket";
import type { EmailMessage, EmailProvider, SendReceipt } from "./types";

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  user?: string | undefined;
  password?: string | undefined;
  maxConnections: number;
  timeoutMs: number;
  /** Shown in logs and metrics: "smtp" for a real server, "dev-inbox" for the local one. */
  name?: string;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
}

/**
 * How an SMTP failure is classified. A 5xx reply is permanent (the server refuses this message:
 * unknown mailbox, rejected content); a 4xx reply, a timeout or a connection failure is retryable.
 * An authentication failure is retryable too, although it is a 5xx: it is our configuration, not
 * the message, that is wrong, so the breaker should open and the mail wait, not be dead-lettered.
 */
export function classifySmtpError(error: unknown): DeliveryError {
  const e = (error ?? {}) as SmtpFailure;
  const reply = e.response ? `: ${e.response}` : "";
  const message = `${e.message ?? String(error)}${reply && !(e.message ?? "").includes(e.response ?? "") ? reply : ""}`;
  if (e.code === "EAUTH") return new RetryableDeliveryError("smtp_auth_failed", message, { cause: error });
  if (typeof e.responseCode === "number") {
    if (e.responseCode >= 500) return new PermanentDeliveryError(`smtp_${e.responseCode}`, message, { cause: error });
    if (e.responseCode >= 400) return new RetryableDeliveryError(`smtp_${e.responseCode}`, message, { cause: error });
  }
  if (e.code === "EENVELOPE" || e.code === "EMESSAGE") return new PermanentDeliveryError("smtp_invalid_message", message, { cause: error });
  if (e.code === "ETIMEDOUT") return new RetryableDeliveryError("smtp_timeout", message, { cause: error });
  return new RetryableDeliveryError("smtp_connection_failed", message, { cause: error });
}

/**
 * Email over SMTP with a pool of reused connections (nodemailer). The pool opens its sockets
 * through us, so reset() can destroy every one of them: a send that missed its deadline (a
 * server that never greets, or a pool that holds a send without ever opening a socket) cannot
 * complete later, and the next send gets a fresh pool.
 */
export class SmtpEmailProvider implements EmailProvider {
  readonly name: string;
  readonly concurrency: number;
  readonly deadlineMs: number;
  private transport: Transporter;
  private sockets = new Set<net.Socket>();

  constructor(private readonly options: SmtpOptions) {
    this.name = options.name ?? "smtp";
    this.concurrency = options.maxConnections;
    this.deadlineMs = options.timeoutMs;
    this.transport = this.createTransport();
  }

  private createTransport(): Transporter {
    const { options } = this;
    const sockets = this.sockets;
    return nodemailer.createTransport({
      pool: true,
      host: options.host,
      port: options.port,
      secure: options.secure,
      maxConnections: options.maxConnections,
      maxMessages: Infinity,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      getSocket: noDelaySocket(options.timeoutMs, (socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
      }),
      ...(options.user ? { auth: { user: options.user, pass: options.password ?? "" } } : {}),
    });
  }

  reset(): void {
    const { transport, sockets } = this;
    this.sockets = new Set();
    this.transport = this.createTransport();
    transport.close();
    for (const socket of sockets) socket.destroy();
  }

  async send(message: EmailMessage): Promise<SendReceipt> {
    try {
      const info = (await this.transport.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
        messageId: message.messageId,
        ...(message.headers ? { headers: message.headers } : {}),
      })) as { messageId?: string; rejected?: unknown[]; response?: string };
      if (Array.isArray(info.rejected) && info.rejected.length > 0) {
        throw new PermanentDeliveryError("smtp_recipient_rejected", `recipient rejected: ${info.response ?? ""}`);
      }
      return { providerMessageId: info.messageId ?? message.messageId };
    } catch (error) {
      if (error instanceof PermanentDeliveryError) throw error;
      throw classifySmtpError(error);
    }
  }

  close(): Promise<void> {
    this.transport.close();
    for (const socket of this.sockets) socket.destroy();
    return Promise.resolve();
  }
}
