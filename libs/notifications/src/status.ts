import { AppError } from "@herald/errors";
import { isUuid, type Channel, type Database, type DeliveryStatus, type Prisma } from "@herald/db";
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
  deliveries: DeliveryView[];
}

const ORDER: DeliveryStatus[] = [
  "processing",
  "retrying",
  "queued",
  "held",
  "scheduled",
  "dead_lettered",
  "failed",
  "sent",
  "cancelled",
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
   */
  async list(filter: ListFilter): Promise<{ requests: RequestView[]; next: string | undefined }> {
    const where: Prisma.NotificationRequestWhereInput = {};
    if (filter.userId !== undefined) {
      const user = await this.users?.find(filter.userId);
      const id = user?.id ?? (isUuid(filter.userId) ? filter.userId : undefined);
      if (!id) return { requests: [], next: undefined };
      where.userId = id;
    }
    if (filter.from || filter.to) where.createdAt = { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) };
    if (filter.before) where.id = { lt: filter.before };
    if (filter.status || filter.channel) {
      where.deliveries = { some: { ...(filter.status ? { status: filter.status } : {}), ...(filter.channel ? { channel: filter.channel } : {}) } };
    }
    const rows = await this.db.prisma.notificationRequest.findMany({ where, include, orderBy: { id: "desc" }, take: filter.limit + 1 });
    const page = rows.slice(0, filter.limit);
    return { requests: page.map(toRequestView), next: rows.length > filter.limit ? page[page.length - 1]?.id : undefined };
  }
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
    deliveries,
  };
}
