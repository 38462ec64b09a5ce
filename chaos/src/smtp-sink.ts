import { FakeSmtp } from "@herald/testkit";

/** What one receiver took: which delivery, when (ms since the epoch). */
export interface Receipt {
  deliveryId: string;
  at: number;
}

/**
 * How the drill SMTP provider behaves now:
 * - `accept`: takes every mail (after `delayMs`, a provider taking ~20 ms per mail);
 * - `refuse`: nothing listens (connection refused);
 * - `silent`: accepts TCP and never greets (open connections go silent too);
 * - `hang`: greets, takes the envelope, and never answers the end of DATA;
 * - `reject`: answers every mail with a permanent 550.
 */
export type SinkMode = "accept" | "refuse" | "silent" | "hang" | "reject";

/**
 * The drill's SMTP provider: the tests' smtp-server fake (libs/testkit), told what to do by mode,
 * and counted by delivery (the Message-ID of every Herald mail is `<delivery id@herald>`).
 */
export class SmtpSink {
  private readonly smtp = new FakeSmtp();
  mode: SinkMode = "accept";
  /** The provider's time per accepted mail. */
  delayMs = 0;

  async start(port: number): Promise<void> {
    await this.smtp.start(port);
    await this.set("accept");
  }

  async set(mode: SinkMode): Promise<void> {
    this.mode = mode;
    this.smtp.clearFaults();
    switch (mode) {
      case "refuse":
      case "silent":
        await this.smtp.outage(mode);
        return;
      case "hang":
        this.smtp.fail({ mode: "hang" });
        break;
      case "reject":
        this.smtp.fail({ mode: "reply", code: 550, message: "5.1.1 mailbox unavailable (chaos drill)" });
        break;
      case "accept":
        if (this.delayMs > 0) this.smtp.fail({ mode: "delay", ms: this.delayMs });
        break;
    }
    await this.smtp.outage(undefined);
  }

  /** Every mail the sink accepted (the 250 after DATA), by delivery. */
  receipts(): Receipt[] {
    const out: Receipt[] = [];
    for (const mail of this.smtp.received) {
      const id = /<([^@>]+)@herald>/.exec(mail.messageId ?? "")?.[1];
      if (id) out.push({ deliveryId: id, at: mail.at });
    }
    return out;
  }

  /** The subjects of every accepted mail (the drill's marks are in them). */
  subjects(): string[] {
    return this.smtp.received.map((m) => m.subject);
  }

  /** DATA commands seen (accepted, refused or left hanging). */
  get dataAttempts(): number {
    return this.smtp.attempts.length;
  }

  /** TCP connections the provider saw (whatever its mode). */
  get connections(): number {
    return this.smtp.connections;
  }

  stop(): Promise<void> {
    return this.smtp.stop();
  }
}
