import { z } from "zod";
import { CHANNELS } from "@herald/db";

const templateId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be 1-128 letters, digits, '.', '_' or '-'");
const languageTag = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a language tag such as en or pt-BR");
const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/, "must be a variable name such as name or order.id");

/** The content of one variant; which fields apply depends on the channel. */
export const variantContentSchema = z
  .object({
    channel: z.enum(CHANNELS),
    language: languageTag.default("en"),
    subject: z.string().max(998).optional(),
    body_text: z.string().min(1).max(100_000),
    body_html: z.string().max(200_000).optional(),
    title: z.string().max(500).optional(),
    data: z.record(z.string().min(1).max(200), z.string().max(4096)).optional(),
    image: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2048).optional(),
    variables: z.array(variableName).max(200).default([]),
  })
  .strict();

export const createTemplateSchema = variantContentSchema.extend({
  template_id: templateId,
  name: z.string().min(1).max(255),
  default_language: languageTag.optional(),
});

export const updateTemplateSchema = variantContentSchema.extend({
  name: z.string().min(1).max(255).optional(),
});

/** POST /templates/:template_id/preview: resolved like a send (language, then the template's default). */
export const previewSchema = z
  .object({
    channel: z.enum(CHANNELS).optional(),
    language: languageTag.optional(),
    template_version: z.number().int().positive().optional(),
    variables: z.record(z.string(), z.unknown()).default({}),
    draft: z
      .object({
        subject: z.string().max(998).optional(),
        body_text: z.string().min(1).max(100_000),
        body_html: z.string().max(200_000).optional(),
        title: z.string().max(500).optional(),
        variables: z.array(variableName).max(200).optional(),
      })
      .strict()
      .optional()
      .describe("Unsaved content rendered in place of the stored version's (a live preview while editing); checked like a PUT"),
  })
  .strict();

export type VariantContent = z.infer<typeof variantContentSchema>;
export type PreviewInput = z.infer<typeof previewSchema>;
export type CreateTemplateInput = z.infer<typeof createTemplateSchema>;
export type UpdateTemplateInput = z.infer<typeof updateTemplateSchema>;
export { templateId as templateIdSchema, languageTag as languageSchema };

/** POST /templates/:template_id/preview renders and writes nothing: read-only keys may call it. */
export const TEMPLATE_PREVIEW_PATH = /^\/templates\/[^/]+\/preview$/;
