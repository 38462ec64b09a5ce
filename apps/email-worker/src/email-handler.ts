import { providerParts, type ChannelHandler } from "@herald/delivery";
import { UndeliverableError } from "@herald/errors";
import type { EmailProvider } from "@herald/providers";

/** Email: the rendered subject and bodies to the user's address, through the email provider. */
export function emailHandler(provider: EmailProvider, from: string): ChannelHandler {
  return {
    channel: "email",
    ...providerParts(provider),
    async send({ delivery, user, rendered }) {
      if (!user.email) throw new UndeliverableError("no_email_address", "the user has no email address");
      const receipt = await provider.send({
        to: user.email,
        from,
        subject: rendered.subject ?? "",
        text: rendered.text,
        ...(rendered.html ? { html: rendered.html } : {}),
        messageId: `<${delivery.id}@herald>`,
        headers: { "X-Herald-Request-Id": delivery.requestId, "X-Correlation-ID": delivery.correlationId },
      });
      return { providerMessageId: receipt.providerMessageId };
    },
  };
}
