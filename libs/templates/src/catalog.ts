import type { Channel, Database } from "@herald/db";
import { JsonCache, type CacheLogger, type Redis } from "@herald/cache";
import { toVersionView, type TemplateVersionView, type TemplateView } from "./view";

const TTL_SECONDS = 300;
const key = (templateId: string) => `template:${templateId}`;
const VERSION_CACHE_SIZE = 1000;

/** Languages to try, most specific first: pt-BR, then pt, then the template's default. */
export function languageCandidates(preferred: readonly (string | undefined)[], fallback: string): string[] {
  const out: string[] = [];
  for (const tag of [...preferred, fallback]) {
    if (!tag) continue;
    for (const candidate of [tag, tag.split("-")[0]!]) if (!out.includes(candidate)) out.push(candidate);
  }
  return out;
}

/**
 * The read side of templates, shared by the gateway, the workers and the template service:
 * a template with the current version of each live variant, through a Redis cache that every
 * write invalidates. Versions are immutable, so a version by id is also kept in process.
 */
export class TemplateCatalog {
  private readonly cache: JsonCache;
  private readonly versions = new Map<string, TemplateVersionView>();

  constructor(
    private readonly db: Database,
    redis: Redis,
    logger?: CacheLogger,
  ) {
    this.cache = new JsonCache(redis, TTL_SECONDS, logger);
  }

  async get(templateId: string): Promise<TemplateView | undefined> {
    return this.cache.readThrough(key(templateId), () => this.load(templateId));
  }

  async load(templateId: string): Promise<TemplateView | undefined> {
    const template = await this.db.prisma.template.findFirst({
      where: { id: templateId, deletedAt: null },
      include: { variants: { where: { deletedAt: null }, orderBy: [{ channel: "asc" }, { language: "asc" }] } },
    });
    if (!template || template.variants.length === 0) return undefined;
    const rows = await this.db.prisma.templateVersion.findMany({
      where: {
        OR: template.variants.map((v) => ({ templateId, channel: v.channel, language: v.language, version: v.currentVersion })),
      },
    });
    const variants = template.variants
      .map((v) => rows.find((r) => r.channel === v.channel && r.language === v.language))
      .filter((r) => r !== undefined)
      .map(toVersionView);
    return {
      template_id: template.id,
      name: template.name,
      default_language: template.defaultLanguage,
      variants,
      created_at: template.createdAt.toISOString(),
      updated_at: template.updatedAt.toISOString(),
    };
  }

  /**
   * The version a send uses: the variant for `channel` in the first of `languages` that has one
   * (then the template's default language); the pinned `version` of that variant, or its current.
   */
  async resolve(
    templateId: string,
    channel: Channel,
    languages: readonly (string | undefined)[],
    version?: number,
  ): Promise<TemplateVersionView | undefined> {
    return this.choose(await this.get(templateId), channel, languages, version);
  }

  /** resolve() on a template the caller already has (fetched alongside other lookups). */
  async choose(
    template: TemplateView | undefined,
    channel: Channel,
    languages: readonly (string | undefined)[],
    version?: number,
  ): Promise<TemplateVersionView | undefined> {
    if (!template) return undefined;
    const templateId = template.template_id;
    for (const language of languageCandidates(languages, template.default_language)) {
      const current = template.variants.find((v) => v.channel === channel && v.language === language);
      if (!current) continue;
      if (version === undefined || version === current.version) return current;
      const pinned = await this.db.prisma.templateVersion.findUnique({
        where: { templateId_channel_language_version: { templateId, channel, language, version } },
      });
      return pinned ? this.remember(toVersionView(pinned)) : undefined;
    }
    return undefined;
  }

  /** A version by id (what a delivery recorded when it was accepted). */
  async version(versionId: string): Promise<TemplateVersionView | undefined> {
    const known = this.versions.get(versionId);
    if (known) return known;
    const row = await this.db.prisma.templateVersion.findUnique({ where: { id: versionId } });
    return row ? this.remember(toVersionView(row)) : undefined;
  }

  async invalidate(templateId: string): Promise<void> {
    await this.cache.delete(key(templateId));
  }

  private remember(view: TemplateVersionView): TemplateVersionView {
    if (this.versions.size >= VERSION_CACHE_SIZE) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) this.versions.delete(oldest);
    }
    this.versions.set(view.version_id, view);
    return view;
  }
}
