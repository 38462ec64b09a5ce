import { SMTPServer } from "smtp-server";
import { simpleParser, type AddressObject } from "mailparser";
import { newId, type Database } from "@herald/db";

export interface DevInboxOptions {
  port: number;
  host?: string;
  /** Largest mail accepted (bytes). */
  maxSize?: number;
  onMail?: (mail: { to: string; subject: string | undefined }) => void;
}

function addresses(value: AddressObject | AddressObject[] | undefined): string {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((a) => a.value.map((v) => v.address ?? "")).filter(Boolean).join(", ");
}

/**
 * The dev inbox: a local SMTP server that accepts every mail and keeps it in sandbox_messages,
 * where GET /sandbox/messages?channel=email lists it. `npm start` runs it when SMTP_HOST is unset.
 */
export class DevInbox {
  private readonly server: SMTPServer;
  private listening = false;

  constructor(
    private readonly db: Database,
    private readonly options: DevInboxOptions,
  ) {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      size: options.maxSize ?? 10 * 1024 * 1024,
      onData: (stream, _session, callback) => {
        simpleParser(stream)
          .then(async (mail) => {
            const to = addresses(mail.to);
            await this.db.prisma.sandboxMessage.create({
              data: {
                id: newId(),
                channel: "email",
                to,
                subject: mail.subject ?? null,
                body: mail.text ?? null,
                html: typeof mail.html === "string" ? mail.html : null,
                payload: { from: addresses(mail.from), message_id: mail.messageId ?? null },
                deliveryId: /^<([0-9a-f-]{36})@/.exec(mail.messageId ?? "")?.[1] ?? null,
              },
            });
            this.options.onMail?.({ to, subject: mail.subject });
            callback();
          })
          .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
      },
    });
    this.server.on("error", () => undefined);
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host ?? "127.0.0.1", () => resolve());
    });
    this.listening = true;
    const address = this.server.server.address();
    return typeof address === "object" && address ? address.port : this.options.port;
  }

  async close(): Promise<void> {
    if (!this.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
