import type { Provider } from "./types";

export type TextChannel = "sms" | "whatsapp";

/** An SMS or WhatsApp message, already rendered and addressed (whatsapp: "whatsapp:+E164"). */
export interface TextMessage {
  channel: TextChannel;
  to: string;
  from: string;
  body: string;
  deliveryId: string;
}

export type TextProvider = Provider<TextMessage>;

/** A phone number as the channel addresses it: +E164 for SMS, whatsapp:+E164 for WhatsApp. */
export function textAddress(channel: TextChannel, number: string): string {
  const bare = number.trim().replace(/^whatsapp:/i, "");
  return channel === "whatsapp" ? `whatsapp:${bare}` : bare;
}
