import { z } from "zod";
import { CHANNELS, decodeCursor, encodeCursor, type Channel } from "@herald/db";
import { actorOf, send, type Api } from "@herald/http";
import { createTemplateSchema, languageSchema, previewSchema, templateIdSchema, textWarnings, updateTemplateSchema, type TemplateService } from "@herald/templates";

const variantFilter = z.object({ channel: z.enum(CHANNELS).optional(), language: languageSchema.optional() });
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .max(200)
    .refine((c) => templateIdSchema.safeParse(decodeCursor(c)).success, "is not a cursor this API gave")
    .optional(),
});
const byId = z.object({ template_id: z.string().min(1).max(128) });
const deleteQuery = variantFilter.extend({
  force: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => v === "true")
    .describe("Delete even when routing rules send with it (their events then answer 422)"),
});
const TAG = "Templates";

/** SMS bodies longer than one segment (and WhatsApp bodies over Twilio's limit) are accepted with `meta.warnings`. */
function warningsMeta(content: { channel: Channel; body_text: string }): Record<string, unknown> {
  const warnings = textWarnings(content.channel, content.body_text);
  return warnings.length > 0 ? { warnings } : {};
}

export function templateRoutes(api: Api, templates: TemplateService): void {
  api.route(
    { method: "post", path: "/templates", tag: TAG, summary: "Create a template, or a new (channel, language) variant of one", body: createTemplateSchema, status: 201, errors: [409] },
    async ({ body, res }) => send(res, await templates.create(body, actorOf(res)), { status: 201, message: "Template created", meta: warningsMeta(body) }),
  );

  api.route({ method: "get", path: "/templates", tag: TAG, summary: "Templates with their current variants", query: listQuery }, async ({ query, res }) => {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const { templates: page, next } = await templates.list({ limit: query.limit, ...(after ? { after } : {}) });
    send(res, page, { meta: next ? { next_cursor: encodeCursor(next) } : {} });
  });

  api.route(
    { method: "get", path: "/templates/:template_id", tag: TAG, summary: "A template's variants (?channel=&language= to pick)", params: byId, query: variantFilter, errors: [404] },
    async ({ params, query, res }) => send(res, await templates.get(params.template_id, query)),
  );

  api.route(
    { method: "get", path: "/templates/:template_id/versions", tag: TAG, summary: "Every version of a template's variants", params: byId, query: variantFilter, errors: [404] },
    async ({ params, query, res }) => send(res, await templates.versions(params.template_id, query)),
  );

  api.route(
    { method: "put", path: "/templates/:template_id", tag: TAG, summary: "A new version of one variant (the body names channel and language)", params: byId, body: updateTemplateSchema, errors: [404] },
    async ({ params, body, res }) => send(res, await templates.update(params.template_id, body, actorOf(res)), { message: "New version created", meta: warningsMeta(body) }),
  );

  api.route(
    {
      method: "post",
      path: "/templates/:template_id/preview",
      tag: TAG,
      summary: "Render the variant a send would use (channel, then language with fallback to the default), without sending",
      params: byId,
      body: previewSchema,
      errors: [404, 422],
    },
    async ({ params, body, res }) => {
      const { preview, warnings } = await templates.preview(params.template_id, body);
      send(res, preview, { message: "Rendered", meta: warnings.length > 0 ? { warnings } : {} });
    },
  );

  api.route(
    {
      method: "delete",
      path: "/templates/:template_id",
      tag: TAG,
      summary: "Delete every variant, or those matching ?channel=&language=",
      description: "409 template_in_use, naming the routing rules (details[].rule, channel), when a rule would be left sending on a channel with no variant; `?force=true` deletes anyway.",
      params: byId,
      query: deleteQuery,
      status: 204,
      errors: [404, 409],
    },
    async ({ params, query, res }) => {
      await templates.delete(params.template_id, query, actorOf(res));
      res.status(204).end();
    },
  );
}
