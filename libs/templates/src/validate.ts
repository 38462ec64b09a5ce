import { AppError, type ErrorDetail } from "@herald/errors";
import type { Channel } from "@herald/db";
import { renderJson } from "./json";
import { checkTemplate, sampleView } from "./mustache";
import type { VariantContent } from "./schemas";
import { singleSegmentLimit, smsSegments } from "./sms";

type OptionalField = "subject" | "body_html" | "title" | "data" | "image";

/** What each channel takes besides body_text, and what it cannot do without. */
const CHANNEL_FIELDS: Record<Channel, { allowed: OptionalField[]; required: OptionalField[] }> = {
  email: { allowed: ["subject", "body_html"], required: ["subject"] },
  push: { allowed: ["title", "data", "image"], required: ["title"] },
  sms: { allowed: [], required: [] },
  whatsapp: { allowed: [], required: [] },
  webhook: { allowed: [], required: [] },
  slack: { allowed: [], required: [] },
};
const OPTIONAL_FIELDS: OptionalField[] = ["subject", "body_html", "title", "data", "image"];
/** Keys FCM refuses in a message's data. */
const FCM_RESERVED = /^(from|notification|message_type|google.*|gcm.*)$/i;
/** Twilio's limit for a WhatsApp body (WhatsApp itself does not split messages into segments). */
export const WHATSAPP_MAX_CHARACTERS = 1600;

/** Channels whose body_text is the JSON document that is posted. */
export function isJsonChannel(channel: Channel): boolean {
  return channel === "webhook" || channel === "slack";
}

function channelFieldProblems(content: VariantContent): ErrorDetail[] {
  const { allowed, required } = CHANNEL_FIELDS[content.channel];
  const takes = ["body_text", ...allowed].join(", ");
  const details: ErrorDetail[] = [];
  for (const field of OPTIONAL_FIELDS) {
    const given = content[field] !== undefined;
    if (given && !allowed.includes(field)) details.push({ field, message: `is not used by ${content.channel} templates (they take ${takes})` });
    if (!given && required.includes(field)) details.push({ field, message: `is required for ${content.channel} templates` });
  }
  for (const key of Object.keys(content.data ?? {})) {
    if (FCM_RESERVED.test(key)) details.push({ field: `data.${key}`, message: "is a key FCM reserves (from, notification, message_type, google*, gcm*)" });
  }
  return details;
}

/** A webhook or Slack body must be JSON once rendered: checked with stand-in values. */
function jsonProblem(bodyText: string): ErrorDetail | undefined {
  try {
    JSON.parse(renderJson(bodyText, sampleView(bodyText)));
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { field: "body_text", message: `does not render to valid JSON (with every variable set to "0"): ${reason}` };
  }
}

/** 400 with every problem: fields the channel needs or does not take, unparsable mustache, undeclared variables, JSON bodies that are not JSON. */
export function validateContent(content: VariantContent): void {
  const details = channelFieldProblems(content);
  const fields: Record<string, string | undefined> = {
    subject: content.subject,
    body_text: content.body_text,
    body_html: content.body_html,
    title: content.title,
    image: content.image,
    ...Object.fromEntries(Object.entries(content.data ?? {}).map(([k, v]) => [`data.${k}`, v])),
  };
  const templateProblems = checkTemplate(fields, content.variables);
  details.push(...templateProblems);
  if (isJsonChannel(content.channel) && !templateProblems.some((p) => p.field === "body_text")) {
    const problem = jsonProblem(content.body_text);
    if (problem) details.push(problem);
  }
  if (details.length > 0) throw AppError.validation(details, "The template is not valid");
}

export interface ContentWarning {
  field: string;
  message: string;
  segments?: number;
  encoding?: string;
}

/**
 * What is allowed but likely unintended: an SMS longer than one segment, a WhatsApp body over
 * Twilio's limit. `rendered` says whether `text` is a rendered message or the template as written.
 */
export function textWarnings(channel: Channel, text: string, rendered = false): ContentWarning[] {
  const what = rendered ? "rendered" : "as written ({{tags}} included)";
  if (channel === "sms") {
    const count = smsSegments(text);
    if (count.segments <= 1) return [];
    return [
      {
        field: "body_text",
        message: `${what} is ${count.units} ${count.encoding} units long: sent as ${count.segments} SMS segments (one holds ${singleSegmentLimit(count.encoding)})`,
        segments: count.segments,
        encoding: count.encoding,
      },
    ];
  }
  if (channel === "whatsapp") {
    const characters = [...text].length;
    if (characters <= WHATSAPP_MAX_CHARACTERS) return [];
    return [{ field: "body_text", message: `${what} is ${characters} characters long; WhatsApp through Twilio takes at most ${WHATSAPP_MAX_CHARACTERS}` }];
  }
  return [];
}
