import { recordAudit, type Actor } from "@herald/audit";
import { AppError } from "@herald/errors";
import { isUniqueViolation, newId, type Channel, type Database, Prisma } from "@herald/db";
import type { TemplateCatalog } from "./catalog";
import { previewTemplate, type PreviewResult } from "./preview";
import type { CreateTemplateInput, PreviewInput, UpdateTemplateInput, VariantContent } from "./schemas";
import { validateContent } from "./validate";
import { toVersionView, type TemplateVersionView, type TemplateView } from "./view";

function versionData(templateId: string, content: VariantContent, version: number): Prisma.TemplateVersionUncheckedCreateInput {
  return {
    id: newId(),
    templateId,
    channel: content.channel,
    language: content.language,
    version,
    subject: content.subject ?? null,
    bodyText: content.body_text,
    bodyHtml: content.body_html ?? null,
    title: content.title ?? null,
    data: content.data ?? Prisma.DbNull,
    image: content.image ?? null,
    variables: content.variables,
  };
}

/** Writes made by the platform itself (the launcher's seed), not through the API with a key. */
const SYSTEM: Actor = { keyId: "system" };

/** The target of a variant's audit entry: template_id/channel/language. */
const variantTarget = (templateId: string, channel: Channel, language: string) => ({ type: "template", id: `${templateId}/${channel}/${language}` });

/**
 * The write side of templates: every change makes a new immutable version, is recorded in the
 * audit log in the same transaction, and invalidates the cache.
 */
export class TemplateService {
  constructor(
    private readonly db: Database,
    private readonly catalog: TemplateCatalog,
  ) {}

  /**
   * A new template, or a new variant (channel, language) of an existing one. 409 if the variant
   * exists. Decided by the database, not by a read before the write: the template row is inserted
   * (or a deleted one brought back) with ON CONFLICT, and the variant with ON CONFLICT that only
   * revives a deleted one, so of concurrent creates of one variant exactly one gets its row and
   * the others see the conflict (a unique violation anywhere is answered 409 too).
   */
  async create(input: CreateTemplateInput, actor: Actor = SYSTEM): Promise<TemplateVersionView> {
    validateContent(input);
    const { template_id: templateId } = input;
    const conflict = () =>
      new AppError("conflict", `Template ${templateId} already has a ${input.channel} variant in ${input.language}; PUT makes a new version`, [
        { field: "template_id", message: `already has a ${input.channel} variant in ${input.language}` },
      ]);
    const row = await this.db.prisma
      .$transaction(async (tx) => {
        const defaultLanguage = input.default_language ?? input.language;
        await tx.$executeRaw`
          INSERT INTO templates (id, name, default_language) VALUES (${templateId}, ${input.name}, ${defaultLanguage})
          ON CONFLICT (id) DO UPDATE SET deleted_at = NULL, name = EXCLUDED.name, default_language = EXCLUDED.default_language, updated_at = now()
           WHERE templates.deleted_at IS NOT NULL`;
        const variant = await tx.$queryRaw<{ current_version: number }[]>`
          INSERT INTO template_variants (template_id, channel, language, current_version)
          VALUES (${templateId}, ${input.channel}::"Channel", ${input.language}, 1)
          ON CONFLICT (template_id, channel, language) DO UPDATE
            SET current_version = template_variants.current_version + 1, deleted_at = NULL, updated_at = now()
           WHERE template_variants.deleted_at IS NOT NULL
          RETURNING current_version`;
        const version = variant[0]?.current_version;
        if (version === undefined) throw conflict();
        const created = await tx.templateVersion.create({ data: versionData(templateId, input, version) });
        await recordAudit(tx, actor, { action: "template.create", target: variantTarget(templateId, input.channel, input.language), after: toVersionView(created) });
        return created;
      })
      .catch((error: unknown) => {
        throw isUniqueViolation(error) ? conflict() : error;
      });
    await this.catalog.invalidate(templateId);
    return toVersionView(row);
  }

  /** A new version of an existing variant. */
  async update(templateId: string, input: UpdateTemplateInput, actor: Actor = SYSTEM): Promise<TemplateVersionView> {
    validateContent(input);
    const row = await this.db.prisma.$transaction(async (tx) => {
      const variantKey = { templateId, channel: input.channel, language: input.language };
      const variant = await tx.templateVariant.findUnique({ where: { templateId_channel_language: variantKey } });
      if (!variant || variant.deletedAt) {
        throw AppError.notFound(`Template ${templateId} (${input.channel}, ${input.language})`);
      }
      const { currentVersion } = await tx.templateVariant.update({
        where: { templateId_channel_language: variantKey },
        data: { currentVersion: { increment: 1 } },
      });
      if (input.name) await tx.template.update({ where: { id: templateId }, data: { name: input.name } });
      const previous = await tx.templateVersion.findUnique({
        where: { templateId_channel_language_version: { ...variantKey, version: currentVersion - 1 } },
      });
      const created = await tx.templateVersion.create({ data: versionData(templateId, input, currentVersion) });
      await recordAudit(tx, actor, {
        action: "template.update",
        target: variantTarget(templateId, input.channel, input.language),
        ...(previous ? { before: toVersionView(previous) } : {}),
        after: toVersionView(created),
      });
      return created;
    });
    await this.catalog.invalidate(templateId);
    return toVersionView(row);
  }

  async get(templateId: string, filter: { channel?: Channel; language?: string } = {}): Promise<TemplateView> {
    const template = await this.catalog.get(templateId);
    if (!template) throw AppError.notFound(`Template ${templateId}`);
    const variants = template.variants.filter(
      (v) => (!filter.channel || v.channel === filter.channel) && (!filter.language || v.language === filter.language),
    );
    if (variants.length === 0) throw AppError.notFound(`Template ${templateId} (${filter.channel ?? "any"}, ${filter.language ?? "any"})`);
    return { ...template, variants };
  }

  /**
   * Deletes every variant, or only those matching channel/language. Versions are kept (deliveries
   * accepted before the delete still render), but the template can no longer be used. 409
   * template_in_use, naming the routing rules, when a rule would be left sending on a channel that
   * has no variant any more; `force` deletes anyway (those events then answer 422).
   */
  async delete(templateId: string, filter: { channel?: Channel; language?: string; force?: boolean } = {}, actor: Actor = SYSTEM): Promise<void> {
    const now = new Date();
    const deleted = await this.db.prisma.$transaction(async (tx) => {
      const where = { templateId, deletedAt: null, ...(filter.channel ? { channel: filter.channel } : {}), ...(filter.language ? { language: filter.language } : {}) };
      const doomed = await tx.templateVariant.findMany({ where, include: { versions: { orderBy: { version: "desc" }, take: 1 } } });
      const { count } = await tx.templateVariant.updateMany({ where, data: { deletedAt: now } });
      const live = await tx.templateVariant.findMany({ where: { templateId, deletedAt: null }, select: { channel: true } });
      if (count > 0 && live.length === 0) await tx.template.update({ where: { id: templateId }, data: { deletedAt: now } });
      const gone = new Set(doomed.map((v) => v.channel).filter((c) => !live.some((v) => v.channel === c)));
      if (gone.size > 0 && !filter.force) {
        const rules = await tx.routingRule.findMany({ where: { templateId }, select: { eventType: true, channels: true }, orderBy: { eventType: "asc" } });
        const broken = rules.flatMap((r) => r.channels.filter((c) => gone.has(c)).map((channel) => ({ rule: r.eventType, channel })));
        if (broken.length > 0) {
          throw new AppError(
            "template_in_use",
            `Routing rules send with template ${templateId}: ${[...new Set(broken.map((b) => b.rule))].join(", ")}. Change or delete them first, or add ?force=true`,
            broken.map((b) => ({ field: "template_id", message: `routing rule ${b.rule} sends ${b.channel} with it`, rule: b.rule, channel: b.channel })),
          );
        }
      }
      await recordAudit(
        tx,
        actor,
        ...doomed.map((v) => ({
          action: "template.delete",
          target: variantTarget(templateId, v.channel, v.language),
          ...(v.versions[0] ? { before: toVersionView(v.versions[0]) } : {}),
        })),
      );
      return count;
    });
    await this.catalog.invalidate(templateId);
    if (deleted === 0) throw AppError.notFound(`Template ${templateId}`);
  }

  async list(options: { limit: number; after?: string }): Promise<{ templates: TemplateView[]; next: string | undefined }> {
    const rows = await this.db.prisma.template.findMany({
      where: { deletedAt: null, ...(options.after ? { id: { gt: options.after } } : {}) },
      orderBy: { id: "asc" },
      take: options.limit + 1,
      select: { id: true },
    });
    const page = rows.slice(0, options.limit);
    const templates = (await Promise.all(page.map((r) => this.catalog.get(r.id)))).filter((t): t is TemplateView => t !== undefined);
    return { templates, next: rows.length > options.limit ? page[page.length - 1]?.id : undefined };
  }

  /** Renders the variant a send would use, without sending. */
  async preview(templateId: string, input: PreviewInput): Promise<PreviewResult> {
    return previewTemplate(this.catalog, templateId, input);
  }

  /** Every version of every variant, deleted variants included (deliveries may still point at them). */
  async versions(templateId: string, filter: { channel?: Channel; language?: string } = {}): Promise<TemplateVersionView[]> {
    const rows = await this.db.prisma.templateVersion.findMany({
      where: { templateId, ...(filter.channel ? { channel: filter.channel } : {}), ...(filter.language ? { language: filter.language } : {}) },
      orderBy: [{ channel: "asc" }, { language: "asc" }, { version: "desc" }],
    });
    if (rows.length === 0) throw AppError.notFound(`Template ${templateId}`);
    return rows.map(toVersionView);
  }
}
