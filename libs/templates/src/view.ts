import type { Channel, TemplateVersion } from "@herald/db";

/** One version of one variant, as the API shows it and as the cache holds it. */
export interface TemplateVersionView {
  version_id: string;
  template_id: string;
  channel: Channel;
  language: string;
  version: number;
  subject: string | null;
  body_text: string;
  body_html: string | null;
  title: string | null;
  data: Record<string, string> | null;
  image: string | null;
  variables: string[];
  created_at: string;
}

export interface TemplateView {
  template_id: string;
  name: string;
  default_language: string;
  variants: TemplateVersionView[];
  created_at: string;
  updated_at: string;
}

export function toVersionView(row: TemplateVersion): TemplateVersionView {
  return {
    version_id: row.id,
    template_id: row.templateId,
    channel: row.channel,
    language: row.language,
    version: row.version,
    subject: row.subject,
    body_text: row.bodyText,
    body_html: row.bodyHtml,
    title: row.title,
    data: (row.data as Record<string, string> | null) ?? null,
    image: row.image,
    variables: row.variables,
    created_at: row.createdAt.toISOString(),
  };
}
