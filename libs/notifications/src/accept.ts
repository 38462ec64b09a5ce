import { AppError, type ErrorDetail } from "@herald/errors";
import { isDatabaseUnavailable, newId, type Channel, type DeliveryStatus } from "@herald/db";
import { deliveryOutgoing, type OutboxPublisher, type OutgoingMessage, type StoredOutgoing } from "@herald/messaging";
import type { UserRateLimiter, RateLimitDecision } from "@herald/resilience";
import { channelEnabled, channelReachable } from "@herald/channels";
import { quietHoursEnd, type UserDirectory, type UserProfile } from "@herald/users";
import { missingVariables, type TemplateCatalog, type TemplateVersionView, type TemplateView } from "@herald/templates";
import type { Logger } from "@herald/logger";
import { bodyHash, type IdempotencyCache, type StoredAnswer } from "./idempotency";
import { directLookups, memoizedLookups, type Lookups } from "./lookups";
import type { SendInput } from "./schemas";
import type { AcceptItem, AcceptWriter, DeliveryRow, WriteOutcome } from "./writer";

export interface AcceptContext {
  apiKeyId: string;
  correlationId: string;
  /** The Idempotency-Key header; the body's idempotency_key wins if both are given and equal. */
  idempotencyKey?: string;
  /** What the idempotency key stands for when it is not the send itself (an event's body). */
  idempotencyBody?: unknown;
  source?: "api" | "bulk" | "event";
  eventType?: string;
  logger?: Logger;
}

export interface AcceptedDelivery {
  delivery_id: string;
  channel: Channel;
  status: DeliveryStatus;
  /** When a scheduled or held delivery goes out. */
  release_at?: string;
  reason?: string;
}

/** The 202 answer's data. */
export interface AcceptAnswer {
  request_id: string;
  status: "queued" | "scheduled" | "held" | "suppressed";
  channel?: Channel;
  channels?: Channel[];
  correlation_id: string;
  remaining_requests: number;
  deliveries: AcceptedDelivery[];
}

export interface AcceptResult {
  answer: AcceptAnswer;
  /** True when this is the stored answer of an earlier request with the same idempotency key. */
  replayed: boolean;
  rate: RateLimitDecision | undefined;
}

/** One item's answer in a bulk send: what a single send of that item would have answered. */
export type BulkItemResult =
  | { index: number; success: true; status_code: 202; data: AcceptAnswer; replayed: boolean }
  | { index: number; success: false; status_code: number; error: { code: string; message: string; details?: ErrorDetail[] } };

export interface AcceptDeps {
  users: UserDirectory;
  templates: TemplateCatalog;
  rateLimiter: UserRateLimiter;
  idempotency: IdempotencyCache;
  writer: AcceptWriter;
  outbox: OutboxPublisher;
  idempotencyTtlMs: number;
  /** The clock (tests of quiet hours and schedules). */
  now?: () => number;
}

/** The contract's RateLimit-* and Retry-After headers for a decision. */
export function rateLimitHeaders(rate: RateLimitDecision): Record<string, string> {
  const reset = Math.max(1, Math.ceil(rate.resetMs / 1000));
  const headers: Record<string, string> = {
    "RateLimit-Limit": String(rate.limit),
    "RateLimit-Remaining": String(rate.remaining),
    "RateLimit-Reset": String(reset),
  };
  if (!rate.allowed) headers["Retry-After"] = String(reset);
  return headers;
}

interface Planned {
  item: AcceptItem;
  answer: AcceptAnswer;
  rate: RateLimitDecision;
  key: string | undefined;
  hash: string | undefined;
}

/** An item of a bulk before it is written: refused, answered from the cache, or planned. */
type Prepared = AppError | { replay: AcceptAnswer } | Planned;

/**
 * Accepting a send: every check that can refuse it (user, rate limit, template, variables,
 * preferences), then one write of the request, its deliveries and their outbox messages, then the
 * publish. The answer is given once the write has committed; the publish follows and the outbox
 * relay covers it if it fails.
 *
 * A send is `queued` (its outbox message is written with it), `scheduled` (send_at in the future)
 * or `held` (inside the user's quiet hours, unless critical); scheduled and held deliveries have a
 * release_at and no outbox message: the DeliveryScheduler writes it when they are due.
 */
export class AcceptService {
  private readonly direct: Lookups;
  private readonly now: () => number;

  constructor(private readonly deps: AcceptDeps) {
    this.direct = directLookups(deps.users, deps.templates);
    this.now = deps.now ?? Date.now;
  }

  async accept(input: SendInput, ctx: AcceptContext): Promise<AcceptResult> {
    const key = idempotencyKeyOf(input, ctx);
    const hash = key ? bodyHash(ctx.idempotencyBody ?? { ...input, idempotency_key: undefined }) : undefined;
    if (key && hash) {
      const cached = await this.deps.idempotency.get<AcceptAnswer>(ctx.apiKeyId, key);
      if (cached) return { answer: replay(cached.body_hash, hash, cached.response), replayed: true, rate: undefined };
    }
    const planned = await this.prepare(input, ctx, key, hash, this.direct);
    const outcome = await this.deps.writer.write(planned.item);
    const { result, cache } = settle(outcome, planned);
    if (cache) await this.deps.idempotency.set(ctx.apiKeyId, cache.key, cache.answer);
    if (outcome.kind === "created") {
      void this.deps.outbox.publish(outcome.outbox);
      ctx.logger?.info("notification accepted", { request_id: result.answer.request_id, user_id: planned.item.request.userId, status: result.answer.status });
    }
    return result;
  }

  /**
   * Accepts many sends at once (POST /notifications/send-bulk): one answer per item, in order,
   * each what a single send would answer. Users and templates are looked up once per distinct id,
   * the idempotency cache is read in one round trip, the accepted items are written through the
   * AcceptWriter together (one transaction per writer batch, not one per item), and their
   * messages are published as one batch with one wait for the broker's confirms.
   * Items that failed validation come in as their AppError.
   */
  async acceptMany(inputs: (SendInput | AppError)[], ctx: AcceptContext): Promise<BulkItemResult[]> {
    const lookups = memoizedLookups(this.direct);
    const keys = inputs.map((input) => (input instanceof AppError ? undefined : input.idempotency_key));
    const cached = await this.deps.idempotency.getMany<AcceptAnswer>(ctx.apiKeyId, keys);

    const prepared: Prepared[] = await Promise.all(
      inputs.map(async (input, i): Promise<Prepared> => {
        if (input instanceof AppError) return input;
        try {
          const key = keys[i];
          const hash = key ? bodyHash({ ...input, idempotency_key: undefined }) : undefined;
          const hit = cached[i];
          if (hit && hash) return { replay: replay(hit.body_hash, hash, hit.response) };
          return await this.prepare(input, ctx, key, hash, lookups);
        } catch (error) {
          if (error instanceof AppError) return error;
          throw error;
        }
      }),
    );

    const planned = prepared.filter((p): p is Planned => "item" in p);
    const written = await Promise.allSettled(this.deps.writer.writeMany(planned.map((p) => p.item)));
    const outcomes = new Map<Planned, PromiseSettledResult<WriteOutcome>>(planned.map((p, i) => [p, written[i]!]));

    const toCache: { key: string; answer: StoredAnswer<AcceptAnswer> }[] = [];
    const toPublish: StoredOutgoing[] = [];
    const results = prepared.map((p, index): BulkItemResult => {
      if (p instanceof AppError) return failure(index, p);
      if ("replay" in p) return { index, success: true, status_code: 202, data: p.replay, replayed: true };
      const outcome = outcomes.get(p)!;
      if (outcome.status === "rejected") return failure(index, unexpected(outcome.reason, ctx.logger));
      try {
        const { result, cache } = settle(outcome.value, p);
        if (cache) toCache.push(cache);
        if (outcome.value.kind === "created") toPublish.push(...outcome.value.outbox);
        return { index, success: true, status_code: 202, data: result.answer, replayed: result.replayed };
      } catch (error) {
        if (error instanceof AppError) return failure(index, error);
        throw error;
      }
    });
    await this.deps.idempotency.setMany(ctx.apiKeyId, toCache);
    void this.deps.outbox.publish(toPublish);
    const accepted = results.filter((r) => r.success).length;
    ctx.logger?.info("bulk accepted", { items: results.length, accepted, rejected: results.length - accepted, messages: toPublish.length });
    return results;
  }

  /** The user, the rate limit and the plan: everything before the write; throws the 4xx. */
  private async prepare(input: SendInput, ctx: AcceptContext, key: string | undefined, hash: string | undefined, lookups: Lookups): Promise<Planned> {
    // The template does not depend on the user: both cache reads go to Redis in one round trip.
    const template = lookups.template(input.template_id);
    template.catch(() => undefined); // awaited below, unless the user is unknown
    const user = await lookups.user(input.user_id);
    if (!user) throw new AppError("user_not_found", `No user with id or external_id "${input.user_id}"`, [{ field: "user_id", message: "unknown user" }]);

    const rate = await this.deps.rateLimiter.consume(user.id);
    if (!rate.allowed) {
      throw new AppError("rate_limited", `Too many notifications for this user; try again in ${Math.ceil(rate.resetMs / 1000)} s`, undefined, rateLimitHeaders(rate));
    }
    return this.plan(input, user, await template, ctx, rate, key, hash, lookups);
  }

  /** Resolves templates and preferences and builds the rows; throws the 422s. */
  private async plan(
    input: SendInput,
    user: UserProfile,
    template: TemplateView | undefined,
    ctx: AcceptContext,
    rate: RateLimitDecision,
    key: string | undefined,
    hash: string | undefined,
    lookups: Lookups,
  ): Promise<Planned> {
    const channels: Channel[] = input.channels ?? (input.channel ? [input.channel] : []);
    const requestId = newId();
    const versions = await Promise.all(
      channels.map((channel) => lookups.version(template, channel, [user.preferences.language, user.language], input.template_version)),
    );
    const notFound = channels.filter((_, i) => versions[i] === undefined);
    if (notFound.length > 0) {
      throw new AppError(
        "template_not_found",
        `Template "${input.template_id}"${input.template_version ? ` version ${input.template_version}` : ""} has no variant for ${notFound.join(", ")}`,
        notFound.map((channel) => ({ field: "template_id", message: `no ${channel} variant`, channel })),
      );
    }
    const missing = new Set(versions.flatMap((v) => missingVariables((v as TemplateVersionView).variables, input.variables)));
    if (missing.size > 0) {
      throw new AppError(
        "missing_variables",
        `The template needs variables that were not given: ${[...missing].join(", ")}`,
        [...missing].map((name): ErrorDetail => ({ field: `variables.${name}`, message: "is required by the template" })),
      );
    }
    const unreachable = channels.filter((c) => channelEnabled(user, c) && !channelReachable(user, c));
    if (unreachable.length === channels.length) {
      throw new AppError(
        "channel_not_available",
        `The user has no address for ${unreachable.join(", ")}`,
        unreachable.map((channel) => ({ field: "channel", message: `user has no ${channel} address`, channel })),
      );
    }

    const sendAt = input.send_at ? new Date(input.send_at) : null;
    const release = releaseOf(user, input.priority, sendAt, this.now());
    const deliveries: DeliveryRow[] = channels.map((channel, i) => {
      const base = {
        id: newId(),
        requestId,
        channel,
        priority: input.priority,
        templateVersionId: versions[i]!.version_id,
        releaseAt: null,
        lastError: null,
        lastErrorCode: null,
      };
      if (!channelEnabled(user, channel)) return { ...base, status: "suppressed" as const, lastError: `${channel} is disabled in the user's preferences`, lastErrorCode: "suppressed" };
      if (!channelReachable(user, channel)) return { ...base, status: "failed" as const, lastError: `user has no ${channel} address`, lastErrorCode: "channel_not_available" };
      return { ...base, ...release };
    });
    const outbox: OutgoingMessage[] = deliveries
      .filter((d) => d.status === "queued")
      .map((d) => deliveryOutgoing({ deliveryId: d.id, requestId, channel: d.channel, correlationId: ctx.correlationId, priority: d.priority }));

    const answer: AcceptAnswer = {
      request_id: requestId,
      status: answerStatus(deliveries.map((d) => d.status)),
      ...(input.channels ? { channels } : { channel: channels[0]! }),
      correlation_id: ctx.correlationId,
      remaining_requests: rate.remaining,
      deliveries: deliveries.map((d) => ({
        delivery_id: d.id,
        channel: d.channel,
        status: d.status,
        ...(d.releaseAt ? { release_at: d.releaseAt.toISOString() } : {}),
        ...(d.lastError ? { reason: d.lastError } : {}),
      })),
    };
    const item: AcceptItem = {
      request: {
        id: requestId,
        userId: user.id,
        userRef: input.user_id,
        templateId: input.template_id,
        templateVersion: input.template_version ?? null,
        variables: input.variables,
        priority: input.priority,
        sendAt,
        idempotencyKey: key ?? null,
        apiKeyId: ctx.apiKeyId,
        correlationId: ctx.correlationId,
        source: ctx.source ?? "api",
        eventType: ctx.eventType ?? null,
      },
      deliveries,
      outbox,
      ...(key && hash
        ? { idempotency: { scope: ctx.apiKeyId, key, bodyHash: hash, response: answer, expiresAt: new Date(this.now() + this.deps.idempotencyTtlMs) } }
        : {}),
    };
    return { item, answer, rate, key, hash };
  }
}

/**
 * When a deliverable delivery goes out: held until the end of the user's quiet hours if the send
 * time (send_at, or now) falls inside them and it is not critical; else at send_at; else now.
 */
function releaseOf(
  user: UserProfile,
  priority: SendInput["priority"],
  sendAt: Date | null,
  now: number,
): Pick<DeliveryRow, "status" | "releaseAt" | "lastError"> {
  const quiet = user.preferences.quiet_hours;
  const heldUntil = quiet && priority !== "critical" ? quietHoursEnd(quiet, sendAt ?? new Date(now)) : undefined;
  if (heldUntil) return { status: "held", releaseAt: heldUntil, lastError: null };
  if (sendAt) return { status: "scheduled", releaseAt: sendAt, lastError: null };
  return { status: "queued", releaseAt: null, lastError: null };
}

function answerStatus(statuses: DeliveryStatus[]): AcceptAnswer["status"] {
  for (const status of ["queued", "scheduled", "held"] as const) if (statuses.includes(status)) return status;
  return "suppressed";
}

/** The result of a write: the planned answer, or for a key taken meanwhile the first answer (or 409). */
function settle(outcome: WriteOutcome, planned: Planned): { result: AcceptResult; cache?: { key: string; answer: StoredAnswer<AcceptAnswer> } } {
  const { key, hash, rate } = planned;
  if (outcome.kind === "duplicate") {
    const answer = replay(outcome.bodyHash, hash, outcome.response as AcceptAnswer);
    return { result: { answer, replayed: true, rate }, cache: { key: key!, answer: { body_hash: outcome.bodyHash, response: answer } } };
  }
  const cache = key && hash ? { key, answer: { body_hash: hash, response: planned.answer } } : undefined;
  return { result: { answer: planned.answer, replayed: false, rate }, ...(cache ? { cache } : {}) };
}

function failure(index: number, error: AppError): BulkItemResult {
  return {
    index,
    success: false,
    status_code: error.status,
    error: { code: error.code, message: error.message, ...(error.details && error.details.length > 0 ? { details: error.details } : {}) },
  };
}

/** A write that failed for a reason of ours: the item is answered 503 (database away) or 500. */
function unexpected(error: unknown, logger: Logger | undefined): AppError {
  if (isDatabaseUnavailable(error)) return new AppError("service_unavailable", "The database is unavailable; try again shortly");
  logger?.error("bulk item write failed", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  return new AppError("internal_error", "Something went wrong on our side; the correlation id identifies it in the logs");
}

function idempotencyKeyOf(input: SendInput, ctx: AcceptContext): string | undefined {
  if (input.idempotency_key && ctx.idempotencyKey && input.idempotency_key !== ctx.idempotencyKey) {
    throw AppError.validation([{ field: "idempotency_key", message: "differs from the Idempotency-Key header" }]);
  }
  return input.idempotency_key ?? ctx.idempotencyKey;
}

/** The first answer for a replay with the same body; 409 for the same key with another body. */
function replay(storedHash: string, hash: string | undefined, response: AcceptAnswer): AcceptAnswer {
  if (storedHash !== hash) {
    throw new AppError("conflict", "This idempotency key was already used with a different request body", [
      { field: "idempotency_key", message: "already used with a different body", request_id: response.request_id },
    ]);
  }
  return response;
}
