import { AppError } from "@herald/errors";
import { isUuid, uuidv7Floor, type Channel, type Database, type DeliveryStatus, type Prisma } from "@herald/db";
import type { UserDirectory } from "@herald/users";

export interface DeliveryView {
  delivery_id: string;
  channel: string;
  status: DeliveryStatus;
  priority: string;
  attempts: number;
  last_error: string | null;
  last_error_code: string | null;
  provider_message_id: string | null;
  /** The provider the current or last attempt was handed to (the one that sent it, once sent). */
  provider: string | null;
  /** What the provider reported per recipient (push: each device's result); null when nothing was sent. */
  outcome: unknown;
  template_version_id: string | null;
  release_at: string | null;
  next_attempt_at: string | null;
  sent_at: string | null;
  failed_at: string | null;
  created_at: string;
  updated_at: string;
  /** Every failed provider call, with the provider that failed (several per attempt when it failed over). */
  errors: { attempt: number; provider: string | null; error_code: string; error: string; retryable: boolean; at: string }[];
  /**
   * The delivery that carries this one's digest: set while digesting (the window's first
   * collected send), on a digested one (the delivery it was folded into) and on the carrier itself.
   */
  digest_delivery_id: string | null;
}

export interface RequestView {
  request_id: string;
  user_id: string;
  user_ref: string;
  template_id: string | null;
  template_version: number | null;
  priority: string;
  status: DeliveryStatus;
  source: string;
  event_type: string | null;
  send_at: string | null;
  correlation_id: string;
  created_at: string;
  /** The send's digest and throttle, as given (windows in seconds); null without. */
  digest: unknown;
  throttle: unknown;
  deliveries: DeliveryView[];
}

const ORDER: DeliveryStatus[] = [
  "processing",
  "retrying",
  "queued",
  "held",
  "scheduled",
  "digesting",
  "dead_lettered",
  "failed",
  "sent",
  "digested",
  "cancelled",
  "throttled",
  "suppressed",
];

/** One status for the whole request: the least finished of its deliveries. */
export function overallStatus(statuses: DeliveryStatus[]): DeliveryStatus {
  for (const status of ORDER) if (statuses.includes(status)) return status;
  return "queued";
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

const include = { deliveries: { orderBy: { channel: "asc" }, include: { attemptLog: { orderBy: { id: "asc" } } } } } satisfies Prisma.NotificationRequestInclude;
type RequestRow = Prisma.NotificationRequestGetPayload<{ include: typeof include }>;

export interface ListFilter {
  /** The user's id or external_id. */
  userId?: string;
  idempotencyKey?: string;
  correlationId?: string;
  /** An email address (any case) or a phone number: the requests of the users with it. */
  recipient?: string;
  providerMessageId?: string;
  templateId?: string;
  status?: DeliveryStatus;
  channel?: Channel;
  /** created_at >= from */
  from?: Date;
  /** created_at < to */
  to?: Date;
  limit: number;
  /** The last request id of the previous page. */
  before?: string;
}

/** Reads requests with every delivery and every failed attempt. */
export class NotificationQueries {
  constructor(
    private readonly db: Database,
    /** Resolves an external_id in list filters. */
    private readonly users?: UserDirectory,
  ) {}

  async get(requestId: string): Promise<RequestView> {
    if (!isUuid(requestId)) throw AppError.notFound("Notification");
    const row = await this.db.prisma.notificationRequest.findUnique({ where: { id: requestId }, include });
    if (!row) throw AppError.notFound("Notification");
    return toRequestView(row);
  }

  /**
   * Requests, newest first, with their deliveries. `status` and `channel` match requests that have
   * a delivery with that status on that channel. `next` is the id to continue before, if more remain.
   * The ids of the page come from one statement whose every filter has an index (searchStatement);
   * the page is then read with its deliveries and attempts.
   */
  async list(filter: ListFilter): Promise<{ requests: RequestView[]; next: string | undefined }> {
    let userIds: string[] | undefined;
    if (filter.userId !== undefined) {
      const user = await this.users?.find(filter.userId);
      const id = user?.id ?? (isUuid(filter.userId) ? filter.userId : undefined);
      if (!id) return { requests: [], next: undefined };
      userIds = [id];
    }
    if (filter.recipient !== undefined) {
      const { rows } = await this.db.pool.query<{ id: string }>(RECIPIENT_SQL, [likeLiteral(filter.recipient), filter.recipient]);
      const ids = rows.map((r) => r.id).filter((id) => !userIds || userIds.includes(id));
      if (ids.length === 0) return { requests: [], next: undefined };
      userIds = ids;
    }
    const statement = searchStatement(filter, userIds);
    const { rows: found } = await this.db.pool.query<{ id: string }>(statement.text, statement.values);
    const ids = found.slice(0, filter.limit).map((r) => r.id);
    const rows = ids.length === 0 ? [] : await this.db.prisma.notificationRequest.findMany({ where: { id: { in: ids } }, include, orderBy: { id: "desc" } });
    return { requests: rows.map(toRequestView), next: found.length > filter.limit ? ids[ids.length - 1] : undefined };
  }
}

/** The users an email address (any case: the trigram index of users.email) or a phone number belongs to. */
export const RECIPIENT_SQL = `SELECT id FROM users WHERE (email ILIKE $1) OR phone = $2 LIMIT 1000`;

/** An ILIKE pattern matching `value` literally. */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, "\\$&");
}

/** Clock slack between the id a gateway makes and PostgreSQL's created_at, for the primary-key bound of from/to. */
const ID_SLACK_MS = 5 * 60_000;

/**
 * The statement that finds one page of request ids (limit + 1 of them, newest first). Each filter
 * is an index: user_id (user_id, id), idempotency_key, correlation_id, template_id
 * (template_id, id), provider_message_id on deliveries; status through deliveries' partial
 * (request_id) index of every status but queued, processing and sent (those three are common, so
 * the newest requests match at once through the (request_id, channel) key), channel through that
 * key; from/to/cursor through the primary key (UUIDv7 ids are time-ordered). The EXPLAIN test in
 * search.int.test.ts holds it to that.
 */
export function searchStatement(filter: ListFilter, userIds?: string[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (userIds) where.push(userIds.length === 1 ? `r.user_id = ${param(userIds[0])}::uuid` : `r.user_id = ANY(${param(userIds)}::uuid[])`);
  if (filter.idempotencyKey !== undefined) where.push(`r.idempotency_key = ${param(filter.idempotencyKey)}`);
  if (filter.correlationId !== undefined) where.push(`r.correlation_id = ${param(filter.correlationId)}`);
  if (filter.templateId !== undefined) where.push(`r.template_id = ${param(filter.templateId)}`);
  if (filter.providerMessageId !== undefined) {
    where.push(`r.id IN (SELECT d.request_id FROM deliveries d WHERE d.provider_message_id = ${param(filter.providerMessageId)})`);
  }
  if (filter.from) {
    where.push(`r.created_at >= ${param(filter.from)}`, `r.id >= ${param(uuidv7Floor(new Date(filter.from.getTime() - ID_SLACK_MS)))}::uuid`);
  }
  if (filter.to) where.push(`r.created_at < ${param(filter.to)}`, `r.id < ${param(uuidv7Floor(new Date(filter.to.getTime() + ID_SLACK_MS)))}::uuid`);
  if (filter.before) where.push(`r.id < ${param(filter.before)}::uuid`);
  if (filter.status || filter.channel) {
    const on = [
      ...(filter.status ? [`d.status = ${param(filter.status)}::"DeliveryStatus"`] : []),
      ...(filter.channel ? [`d.channel = ${param(filter.channel)}::"Channel"`] : []),
    ];
    where.push(`EXISTS (SELECT 1 FROM deliveries d WHERE d.request_id = r.id AND ${on.join(" AND ")})`);
  }
  const text = `SELECT r.id FROM notification_requests r${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY r.id DESC LIMIT ${param(filter.limit + 1)}`;
  return { text, values };
}

function toRequestView(row: RequestRow): RequestView {
  const deliveries: DeliveryView[] = row.deliveries.map((d) => ({
    delivery_id: d.id,
    channel: d.channel,
    status: d.status,
    priority: d.priority,
    attempts: d.attempts,
    last_error: d.lastError,
    last_error_code: d.lastErrorCode,
    provider_message_id: d.providerMessageId,
    provider: d.provider,
    outcome: d.outcome ?? null,
    template_version_id: d.templateVersionId,
    release_at: iso(d.releaseAt),
    next_attempt_at: iso(d.nextAttemptAt),
    sent_at: iso(d.sentAt),
    failed_at: iso(d.failedAt),
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
    errors: d.attemptLog.map((a) => ({
      attempt: a.attempt,
      provider: a.provider,
      error_code: a.errorCode,
      error: a.error,
      retryable: a.retryable,
      at: a.createdAt.toISOString(),
    })),
    digest_delivery_id: d.digestDeliveryId,
  }));
  return {
    request_id: row.id,
    user_id: row.userId,
    user_ref: row.userRef,
    template_id: row.templateId,
    template_version: row.templateVersion,
    priority: row.priority,
    status: overallStatus(deliveries.map((d) => d.status)),
    source: row.source,
    event_type: row.eventType,
    send_at: iso(row.sendAt),
    correlation_id: row.correlationId,
    created_at: row.createdAt.toISOString(),
    digest: row.digest ?? null,
    throttle: row.throttle ?? null,
    deliveries,
  };
}
