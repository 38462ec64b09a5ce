/** What an email provider is asked to send: already rendered, already addressed. */
export interface EmailMessage {
  to: string;
  from: string;
  subject: string;
  text: string;
  html?: string;
  /** Stable per delivery, so a receiver can tell a resend from a new mail. */
  messageId: string;
  headers?: Record<string, string>;
}

export interface SendReceipt {
  providerMessageId: string;
}

/**
 * A provider adapter: sends one message, or throws a DeliveryError (Retryable, Permanent or
 * Undeliverable). `concurrency` is how many sends it can have in flight usefully.
 */
export interface Provider<M> {
  readonly name: string;
  readonly concurrency: number;
  /** The longest one call takes, its own timeouts included (the worker's deadline is built on it). */
  readonly deadlineMs: number;
  /** Throws away every connection (a call missed its deadline), so the next call starts afresh. */
  reset?(): void;
  send(message: M): Promise<SendReceipt>;
  close(): Promise<void>;
}

export type EmailProvider = Provider<EmailMessage>;
