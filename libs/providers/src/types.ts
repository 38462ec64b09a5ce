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
  send(message: M): Promise<SendReceipt>;
  close(): Promise<void>;
}

export type EmailProvider = Provider<EmailMessage>;
