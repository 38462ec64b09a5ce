import { AppError, type ErrorDetail } from "@herald/errors";
import { isDatabaseUnavailable, newId, type Channel } from "@herald/db";
import type { OutboxPublisher, StoredOutgoing } from "@herald/messaging";
import type { UserRateLimiter, RateLimitDecision } from "@herald/resilience";
import { channelEnabled, channelReachable } from "@herald/channels";
import { quietHoursEnd, type UserDirectory, type UserProfile } from "@herald/users";
import { missingVariables, type TemplateCatalog, type TemplateVersionView } from "@herald/templates";
import type { Logger } from "@herald/logger";
import { bodyHash, type IdempotencyCache, type StoredAnswer } from "./idempotency";
import { directLookups, memoizedLookups, type Lookups } from "./lookups";
import { DIGEST_VARIABLES, storedSpec, type SendInput } from "./schemas";
import { answerWith, type AcceptAnswer } from "./answer";
import { digestView } from "./digest";
import type { AcceptItem } from "./decisions";
import type { DeliveryRow, IdempotencyRow } from "./rows";
import type { AcceptWriter, WriteOutcome } from "./writer";

export type { AcceptAnswer, AcceptedDelivery } from "./answer";

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
  rateLimiter: Pick<UserRateLimiter, "consume" | "refund">;
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
    let outcome: WriteOutcome;
    try {
      outcome = await this.deps.writer.write(planned.item);
    } catch (error) {
      await this.refund(planned);
      throw error;
    }
    if (outcome.kind === "duplicate") await this.refund(planned);
    const { result, cache } = settle(outcome, planned);
    if (cache) await this.deps.idempotency.set(ctx.apiKeyId, cache.key, cache.answer);
    if (outcome.kind === "created") {
      void this.deps.outbox.publish(outcome.outbox);
      ctx.logger?.info("notification accepted", { request_id: result.answer.request_id, user_id: planned.item.request.user_id, status: result.answer.status });
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
    // Items not accepted by this call (write failed, key already taken) give their rate point back.
    await Promise.all(planned.filter((_, i) => { const w = written[i]!; return w.status === "rejected" || w.value.kind === "duplicate"; }).map((p) => this.refund(p)));

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

  /**
   * Everything before the write, as named steps; throws the 4xx. The user's rate budget is spent
   * last, once every other check has passed, so a send refused for what it is (unknown template,
   * missing variables, no address) costs nothing; a send refused or replayed after the point was
   * taken gets it back (refund).
   */
  private async prepare(input: SendInput, ctx: AcceptContext, key: string | undefined, hash: string | undefined, lookups: Lookups): Promise<Planned> {
    const refs = await resolveReferences(input, lookups);
    checkVariables(input, refs.versions);
    const now = this.now();
    const decisions = refs.channels.map((channel) => channelStatus(refs.user, channel, input, now));
    checkReachable(refs.channels, decisions);
    const idempotency = key && hash ? { scope: ctx.apiKeyId, key, bodyHash: hash, expiresAt: new Date(now + this.deps.idempotencyTtlMs) } : undefined;
    const item = acceptRows(input, ctx, refs, decisions, idempotency);

    const rate = await this.deps.rateLimiter.consume(refs.user.id);
    if (!rate.allowed) {
      throw new AppError("rate_limited", `Too many notifications for this user; try again in ${Math.ceil(rate.resetMs / 1000)} s`, undefined, rateLimitHeaders(rate));
    }
    // The answer is also what the idempotency key stores: set before it is written.
    item.answer.remaining_requests = rate.remaining;
    return { item, key, hash, rate };
  }

  /** Gives back the rate point of a planned send that this call did not accept (failed write, idempotent replay). */
  private async refund(planned: Planned): Promise<void> {
    await this.deps.rateLimiter.refund(planned.item.request.user_id).catch(() => undefined);
  }
}

/** What a send refers to, resolved: its user, its channels and, per channel, the template variant it uses. */
interface References {
  user: UserProfile;
  channels: Channel[];
  versions: TemplateVersionView[];
}

/**
 * Step 1: the user and, per channel, the template variant (in the user's language, else the
 * template's default); 422 user_not_found, template_not_found. The template does not depend on
 * the user: both cache reads go to Redis in one round trip.
 */
async function resolveReferences(input: SendInput, lookups: Lookups): Promise<References> {
  const template = lookups.template(input.template_id);
  template.catch(() => undefined); // awaited below, unless the user is unknown
  const user = await lookups.user(input.user_id);
  if (!user) throw new AppError("user_not_found", `No user with id or external_id "${input.user_id}"`, [{ field: "user_id", message: "unknown user" }]);
  const channels: Channel[] = input.channels ?? (input.channel ? [input.channel] : []);
  const view = await template;
  const versions = await Promise.all(
    channels.map((channel) => lookups.version(view, channel, [user.preferences.language, user.language], input.template_version)),
  );
  const notFound = channels.filter((_, i) => versions[i] === undefined);
  if (notFound.length > 0) {
    throw new AppError(
      "template_not_found",
      `Template "${input.template_id}"${input.template_version ? ` version ${input.template_version}` : ""} has no variant for ${notFound.join(", ")}`,
      notFound.map((channel) => ({ field: "template_id", message: `no ${channel} variant`, channel })),
    );
  }
  return { user, channels, versions: versions as TemplateVersionView[] };
}

/** Step 2: every variable the variants declare is given (a digest's template gets events, count, first and last from Herald); 422 missing_variables. */
function checkVariables(input: SendInput, versions: TemplateVersionView[]): void {
  const given = input.digest ? { ...input.variables, ...Object.fromEntries(DIGEST_VARIABLES.map((name) => [name, true])) } : input.variables;
  const missing = new Set(versions.flatMap((v) => missingVariables(v.variables, given)));
  if (missing.size > 0) {
    throw new AppError(
      "missing_variables",
      `The template needs variables that were not given: ${[...missing].join(", ")}`,
      [...missing].map((name): ErrorDetail => ({ field: `variables.${name}`, message: "is required by the template" })),
    );
  }
}

/** A channel's delivery as accept decides it, before the write (throttles and digests are decided in the write). */
type ChannelStatus = Pick<DeliveryRow, "status" | "release_at" | "last_error" | "last_error_code" | "variables">;

/**
 * Step 3, a pure function: what happens to one channel of a send. Disabled by the user:
 * suppressed. No address: failed. Otherwise held until the end of the user's quiet hours if the
 * send time (send_at, or now) falls inside them and it is not critical; else scheduled at
 * send_at; else queued. A critical digest send never digests: it goes out at once, as a digest of one.
 */
export function channelStatus(user: UserProfile, channel: Channel, input: Pick<SendInput, "priority" | "send_at" | "digest" | "variables">, now: number): ChannelStatus {
  const none = { release_at: null, last_error: null, last_error_code: null, variables: null };
  if (!channelEnabled(user, channel)) return { ...none, status: "suppressed", last_error: `${channel} is disabled in the user's preferences`, last_error_code: "suppressed" };
  if (!channelReachable(user, channel)) return { ...none, status: "failed", last_error: `user has no ${channel} address`, last_error_code: "channel_not_available" };
  const variables = input.digest && input.priority === "critical" ? digestView(input.variables, [input.variables]) : null;
  const sendAt = input.send_at ? new Date(input.send_at) : null;
  const quiet = user.preferences.quiet_hours;
  const heldUntil = quiet && input.priority !== "critical" ? quietHoursEnd(quiet, sendAt ?? new Date(now)) : undefined;
  if (heldUntil) return { ...none, variables, status: "held", release_at: heldUntil.toISOString() };
  if (sendAt) return { ...none, variables, status: "scheduled", release_at: sendAt.toISOString() };
  return { ...none, variables, status: "queued" };
}

/** Step 4: a send whose every channel lacks an address is refused (422 channel_not_available); a disabled channel is not a refusal. */
function checkReachable(channels: Channel[], decisions: ChannelStatus[]): void {
  if (decisions.some((d) => d.last_error_code !== "channel_not_available")) return;
  throw new AppError(
    "channel_not_available",
    `The user has no address for ${channels.join(", ")}`,
    channels.map((channel) => ({ field: "channel", message: `user has no ${channel} address`, channel })),
  );
}

/**
 * Step 5: the rows the write inserts, in the database's own shape (they go to PostgreSQL as JSON
 * as they are), and the 202 answer. The write releases the queued ones to the outbox.
 */
function acceptRows(input: SendInput, ctx: AcceptContext, refs: References, decisions: ChannelStatus[], idempotency: IdempotencyRow | undefined): AcceptItem {
  const requestId = newId();
  const deliveries: DeliveryRow[] = refs.channels.map((channel, i) => ({
    id: newId(),
    request_id: requestId,
    channel,
    priority: input.priority,
    template_version_id: refs.versions[i]!.version_id,
    digest_delivery_id: null,
    ...decisions[i]!,
  }));
  const answer = answerWith(
    {
      request_id: requestId,
      status: "queued",
      ...(input.channels ? { channels: refs.channels } : { channel: refs.channels[0]! }),
      correlation_id: ctx.correlationId,
      remaining_requests: 0, // set once the rate point is taken
      deliveries: [],
    },
    deliveries,
  );
  return {
    request: {
      id: requestId,
      user_id: refs.user.id,
      user_ref: input.user_id,
      template_id: input.template_id,
      template_version: input.template_version ?? null,
      variables: input.variables,
      priority: input.priority,
      send_at: input.send_at ? new Date(input.send_at).toISOString() : null,
      idempotency_key: idempotency?.key ?? null,
      api_key_id: ctx.apiKeyId,
      correlation_id: ctx.correlationId,
      source: ctx.source ?? "api",
      event_type: ctx.eventType ?? null,
      digest: input.digest ? storedSpec(input.digest) : null,
      throttle: input.throttle ? storedSpec(input.throttle) : null,
    },
    deliveries,
    answer,
    // Critical priority never digests.
    ...(input.digest && input.priority !== "critical" ? { digest: input.digest } : {}),
    ...(input.throttle ? { throttle: input.throttle } : {}),
    ...(idempotency ? { idempotency } : {}),
  };
}

/** The result of a write: the planned answer, or for a key taken meanwhile the first answer (or 409). */
function settle(outcome: WriteOutcome, planned: Planned): { result: AcceptResult; cache?: { key: string; answer: StoredAnswer<AcceptAnswer> } } {
  const { key, hash, rate } = planned;
  if (outcome.kind === "duplicate") {
    const answer = replay(outcome.bodyHash, hash, outcome.response as AcceptAnswer);
    return { result: { answer, replayed: true, rate }, cache: { key: key!, answer: { body_hash: outcome.bodyHash, response: answer } } };
  }
  // The item's answer as the write left it (throttles and digests are decided in the write).
  const answer = planned.item.answer;
  const cache = key && hash ? { key, answer: { body_hash: hash, response: answer } } : undefined;
  return { result: { answer, replayed: false, rate }, ...(cache ? { cache } : {}) };
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
