import { providerParts, type ChannelHandler } from "@herald/delivery";
import { UndeliverableError } from "@herald/errors";
import { textAddress, type TextChannel, type TextProvider } from "@herald/providers";

/** SMS or WhatsApp: the rendered body_text to the user's phone, from the channel's sender. */
export function textHandler(channel: TextChannel, provider: TextProvider, from: string): ChannelHandler {
  return {
    channel,
    ...providerParts(provider),
    async send({ delivery, user, rendered }) {
      if (!user.phone) throw new UndeliverableError("no_phone_number", `the user has no phone number for ${channel}`);
      const receipt = await provider.send({
        channel,
        to: textAddress(channel, user.phone),
        from: textAddress(channel, from),
        body: rendered.text,
        deliveryId: delivery.id,
      });
      return { providerMessageId: receipt.providerMessageId };
    },
  };
}
