import { renderJson } from "./json";
import { renderHtml, renderText } from "./mustache";
import { isJsonChannel } from "./validate";
import type { TemplateVersionView } from "./view";

/** A variant rendered for one recipient: the fields its channel uses. */
export interface RenderedMessage {
  subject?: string;
  text: string;
  html?: string;
  title?: string;
  data?: Record<string, string>;
  image?: string;
}

/**
 * Renders a version. Escaping follows what the field is: HTML bodies are HTML-escaped, webhook and
 * Slack bodies (JSON documents) JSON-escaped, everything else (subjects, text, SMS, push) left as is.
 */
export function renderVersion(version: TemplateVersionView, variables: Record<string, unknown>): RenderedMessage {
  const rendered: RenderedMessage = { text: (isJsonChannel(version.channel) ? renderJson : renderText)(version.body_text, variables) };
  if (version.subject !== null) rendered.subject = renderText(version.subject, variables);
  if (version.body_html !== null) rendered.html = renderHtml(version.body_html, variables);
  if (version.title !== null) rendered.title = renderText(version.title, variables);
  if (version.data !== null) {
    rendered.data = Object.fromEntries(Object.entries(version.data).map(([k, v]) => [k, renderText(v, variables)]));
  }
  if (version.image !== null) rendered.image = renderText(version.image, variables);
  return rendered;
}
