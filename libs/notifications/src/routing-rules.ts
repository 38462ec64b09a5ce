import { recordAudit, type Actor } from "@herald/audit";
import { AppError } from "@herald/errors";
import { isUniqueViolation, newId, Prisma, type Channel, type Database, type Priority, type RoutingRule } from "@herald/db";
import { JsonCache, type CacheLogger, type Redis } from "@herald/cache";
import type { TemplateCatalog } from "@herald/templates";
import { storedSpec, type DigestSpec, type RoutingRuleInput, type RoutingRuleUpdate, type ThrottleSpec } from "./schemas";

export interface RoutingRuleView {
  type: string;
  template_id: string;
  channels: Channel[];
  priority: Priority;
  enabled: boolean;
  /** The digest and throttle of the sends it makes (windows in seconds), or null. */
  digest: (Omit<DigestSpec, "window"> & { window: number }) | null;
  throttle: (Omit<ThrottleSpec, "window"> & { window: number }) | null;
  created_at: string;
  updated_at: string;
}

const TTL_SECONDS = 300;
const SYSTEM: Actor = { keyId: "system" };
const target = (type: string) => ({ type: "routing_rule", id: type });
const key = (type: string) => `routing-rule:${type}`;

function toView(row: RoutingRule): RoutingRuleView {
  return {
    type: row.eventType,
    template_id: row.templateId,
    channels: row.channels,
    priority: row.priority,
    enabled: row.enabled,
    digest: (row.digest as RoutingRuleView["digest"]) ?? null,
    throttle: (row.throttle as RoutingRuleView["throttle"]) ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** The rule's digest and throttle columns (a PUT without them clears them). */
function specColumns(input: RoutingRuleUpdate): { digest: Prisma.InputJsonValue | typeof Prisma.DbNull; throttle: Prisma.InputJsonValue | typeof Prisma.DbNull } {
  return {
    digest: input.digest ? storedSpec(input.digest) : Prisma.DbNull,
    throttle: input.throttle ? storedSpec(input.throttle) : Prisma.DbNull,
  };
}

/**
 * Routing rules: an event type -> the template, channels and priority it sends. Read through a
 * Redis cache (POST /events reads a rule per event); every write invalidates it.
 */
export class RoutingRules {
  private readonly cache: JsonCache;

  constructor(
    private readonly db: Database,
    redis: Redis,
    private readonly templates: TemplateCatalog,
    logger?: CacheLogger,
  ) {
    this.cache = new JsonCache(redis, TTL_SECONDS, logger);
  }

  /**
   * 422 template_not_found unless the template exists with a variant for every channel the rule
   * sends on (a rule that could only ever fail is refused when it is written, not at each event).
   */
  private async requireTemplate(templateId: string, channels: readonly Channel[]): Promise<void> {
    const template = await this.templates.get(templateId);
    const missing = channels.filter((c) => !template?.variants.some((v) => v.channel === c));
    if (missing.length === 0) return;
    throw new AppError(
      "template_not_found",
      template ? `Template "${templateId}" has no variant for ${missing.join(", ")}` : `No template "${templateId}"`,
      missing.map((channel) => ({ field: "template_id", message: template ? `no ${channel} variant` : "unknown template", channel })),
    );
  }

  /** The rule for an event type, cached; undefined when there is none. */
  async find(type: string): Promise<RoutingRuleView | undefined> {
    return this.cache.readThrough(key(type), async () => {
      const row = await this.db.prisma.routingRule.findUnique({ where: { eventType: type } });
      return row ? toView(row) : undefined;
    });
  }

  async get(type: string): Promise<RoutingRuleView> {
    const rule = await this.find(type);
    if (!rule) throw AppError.notFound("Routing rule");
    return rule;
  }

  /** Rules by type, in alphabetical order; `after` is the last type of the previous page. */
  async list({ limit, after }: { limit: number; after?: string }): Promise<{ rules: RoutingRuleView[]; next: string | undefined }> {
    const rows = await this.db.prisma.routingRule.findMany({
      where: after ? { eventType: { gt: after } } : {},
      orderBy: { eventType: "asc" },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    return { rules: page.map(toView), next: rows.length > limit ? page[page.length - 1]?.eventType : undefined };
  }

  /** 409 when the type already has a rule; 422 when its template cannot send on its channels. */
  async create(input: RoutingRuleInput, actor: Actor = SYSTEM): Promise<RoutingRuleView> {
    await this.requireTemplate(input.template_id, input.channels);
    const row = await this.db.prisma
      .$transaction(async (tx) => {
        const created = await tx.routingRule.create({
          data: { id: newId(), eventType: input.type, templateId: input.template_id, channels: input.channels, priority: input.priority, enabled: input.enabled, ...specColumns(input) },
        });
        await recordAudit(tx, actor, { action: "routing_rule.create", target: target(input.type), after: toView(created) });
        return created;
      })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) {
          throw new AppError("conflict", `A routing rule for "${input.type}" already exists; PUT /routing-rules/${input.type} changes it`, [
            { field: "type", message: "already has a rule" },
          ]);
        }
        throw error;
      });
    await this.cache.delete(key(input.type));
    return toView(row);
  }

  /** Replaces the rule's content; 404 when the type has none, 422 as for create. */
  async update(type: string, input: RoutingRuleUpdate, actor: Actor = SYSTEM): Promise<RoutingRuleView> {
    if (!(await this.db.prisma.routingRule.findUnique({ where: { eventType: type }, select: { id: true } }))) throw AppError.notFound("Routing rule");
    await this.requireTemplate(input.template_id, input.channels);
    const row = await this.db.prisma.$transaction(async (tx) => {
      const before = await tx.routingRule.findUnique({ where: { eventType: type } });
      if (!before) return undefined;
      const after = await tx.routingRule.update({
        where: { eventType: type },
        data: { templateId: input.template_id, channels: input.channels, priority: input.priority, enabled: input.enabled, ...specColumns(input) },
      });
      await recordAudit(tx, actor, { action: "routing_rule.update", target: target(type), before: toView(before), after: toView(after) });
      return after;
    });
    await this.cache.delete(key(type));
    if (!row) throw AppError.notFound("Routing rule");
    return toView(row);
  }

  async delete(type: string, actor: Actor = SYSTEM): Promise<void> {
    const removed = await this.db.prisma.$transaction(async (tx) => {
      const before = await tx.routingRule.findUnique({ where: { eventType: type } });
      if (!before) return false;
      await tx.routingRule.delete({ where: { eventType: type } });
      await recordAudit(tx, actor, { action: "routing_rule.delete", target: target(type), before: toView(before) });
      return true;
    });
    await this.cache.delete(key(type));
    if (!removed) throw AppError.notFound("Routing rule");
  }
}
