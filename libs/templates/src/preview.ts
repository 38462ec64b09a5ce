import { AppError } from "@herald/errors";
import type { Channel } from "@herald/db";
import type { TemplateCatalog } from "./catalog";
import { missingVariables } from "./mustache";
import { renderVersion } from "./render";
import type { PreviewInput } from "./schemas";
import { smsSegments, type SmsSegments } from "./sms";
import { isJsonChannel, textWarnings, validateContent, type ContentWarning } from "./validate";
import type { TemplateVersionView } from "./view";

/** What a send with these variables would carry, without sending it. */
export interface Preview {
  template_id: string;
  channel: Channel;
  /** The language of the variant used (after the fallback to the template's default). */
  language: string;
  version: number;
  version_id: string;
  subject?: string;
  body_text: string;
  body_html?: string;
  title?: string;
  data?: Record<string, string>;
  image?: string;
  /** sms: how the rendered text is sent. */
  sms?: SmsSegments;
}

export interface PreviewResult {
  preview: Preview;
  warnings: ContentWarning[];
}

/** The variant a send would use for this channel, rendered; 404 without one, 422 missing_variables. */
export async function previewTemplate(catalog: TemplateCatalog, templateId: string, input: PreviewInput): Promise<PreviewResult> {
  const template = await catalog.get(templateId);
  if (!template) throw AppError.notFound(`Template ${templateId}`);
  const channels = [...new Set(template.variants.map((v) => v.channel))];
  const channel = input.channel ?? (channels.length === 1 ? channels[0] : undefined);
  if (!channel) {
    throw AppError.validation([{ field: "channel", message: `is required: template ${templateId} has ${channels.join(", ")} variants` }]);
  }
  const stored = await catalog.resolve(templateId, channel, [input.language], input.template_version);
  if (!stored) {
    const pinned = input.template_version ? ` version ${input.template_version}` : "";
    throw AppError.notFound(`Template ${templateId}${pinned} for ${channel}${input.language ? ` in ${input.language} or ${template.default_language}` : ""}`);
  }
  const version = input.draft ? withDraft(stored, input.draft) : stored;
  const missing = missingVariables(version.variables, input.variables);
  if (missing.length > 0) {
    throw new AppError(
      "missing_variables",
      `The template needs variables that were not given: ${missing.join(", ")}`,
      missing.map((name) => ({ field: `variables.${name}`, message: "is required by the template" })),
    );
  }
  const rendered = renderVersion(version, input.variables);
  const preview: Preview = {
    template_id: templateId,
    channel,
    language: version.language,
    version: version.version,
    version_id: version.version_id,
    ...(rendered.subject !== undefined ? { subject: rendered.subject } : {}),
    body_text: rendered.text,
    ...(rendered.html !== undefined ? { body_html: rendered.html } : {}),
    ...(rendered.title !== undefined ? { title: rendered.title } : {}),
    ...(rendered.data !== undefined ? { data: rendered.data } : {}),
    ...(rendered.image !== undefined ? { image: rendered.image } : {}),
    ...(channel === "sms" ? { sms: smsSegments(rendered.text) } : {}),
  };
  const warnings = textWarnings(channel, rendered.text, true);
  if (isJsonChannel(channel)) {
    try {
      JSON.parse(rendered.text);
    } catch (error) {
      warnings.push({ field: "body_text", message: `does not render to valid JSON with these variables: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  return { preview, warnings };
}

/** The stored version with unsaved content in its place, checked as a PUT of it would be (400 naming each problem). */
function withDraft(stored: TemplateVersionView, draft: NonNullable<PreviewInput["draft"]>): TemplateVersionView {
  const merged: TemplateVersionView = {
    ...stored,
    subject: draft.subject ?? null,
    body_text: draft.body_text,
    body_html: draft.body_html ?? null,
    title: draft.title ?? null,
    variables: draft.variables ?? stored.variables,
  };
  validateContent({
    channel: merged.channel,
    language: merged.language,
    body_text: merged.body_text,
    variables: merged.variables,
    ...(merged.subject !== null ? { subject: merged.subject } : {}),
    ...(merged.body_html !== null ? { body_html: merged.body_html } : {}),
    ...(merged.title !== null ? { title: merged.title } : {}),
    ...(merged.data ? { data: merged.data } : {}),
    ...(merged.image ? { image: merged.image } : {}),
  });
  return merged;
}
