import { UndeliverableError } from "@herald/errors";
import { SmtpEmailProvider } from "@herald/providers";
import { defineChannel, type ChannelContext } from "./definition";
import { withSandboxFallback } from "./fallback";

/** The dev inbox that `npm start` runs on DEV_SMTP_PORT. */
function devInbox({ config, shared }: ChannelContext): SmtpEmailProvider {
  return shared("dev-inbox", () => new SmtpEmailProvider({ name: "dev-inbox", host: "127.0.0.1", port: config.ports.devSmtp, secure: false, maxConnections: config.smtp.maxConnections, timeoutMs: config.smtp.timeoutMs }));
}

/**
 * Email over SMTP: the relays of SMTP_URLS (or SMTP_HOST) in order, each its own provider
 * `smtp:<host>:<port>` with its own pool and breaker; none configured: the dev inbox. The
 * Message-ID is the delivery's, the same on every attempt, so a receiver can drop a copy.
 */
export const email = defineChannel<SmtpEmailProvider>({
  name: "email",
  queue: "email.queue",
  preference: "email_enabled",
  address: (user) => user.email,
  rate: (config) => config.outboundRates.email,
  providers(context) {
    const { config, shared } = context;
    const relays = config.smtp.servers.map((server) => {
      const name = `smtp:${server.host}:${server.port}`;
      return shared(name, () => new SmtpEmailProvider({ name, ...server, maxConnections: config.smtp.maxConnections, timeoutMs: config.smtp.timeoutMs }));
    });
    return relays.length === 0 ? [devInbox(context)] : withSandboxFallback(config, relays, () => devInbox(context));
  },
  async send(provider, { delivery, user, rendered }, { config }) {
    if (!user.email) throw new UndeliverableError("no_email_address", "the user has no email address");
    const receipt = await provider.send({
      to: user.email,
      from: config.smtp.from,
      subject: rendered.subject ?? "",
      text: rendered.text,
      ...(rendered.html ? { html: rendered.html } : {}),
      messageId: `<${delivery.id}@herald>`,
      headers: { "X-Herald-Request-Id": delivery.requestId, "X-Correlation-ID": delivery.correlationId },
    });
    return { providerMessageId: receipt.providerMessageId };
  },
});
