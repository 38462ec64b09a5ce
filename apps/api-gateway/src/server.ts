import { createHttpApp, OpenApiAggregator, prom, serviceProxy, type Express, type Registry } from "@herald/http";
import {
  AcceptService,
  AcceptWriter,
  DeliveryScheduler,
  EventService,
  IdempotencyCache,
  IdempotencyPurge,
  NotificationQueries,
  RetentionJob,
  RoutingRules,
  type DeliveryRow,
  type DigestRelease,
  type RetentionDeleted,
} from "@herald/notifications";
import { ConfirmPublisher, OutboxPublisher, OutboxRelay } from "@herald/messaging";
import { UserRateLimiter } from "@herald/resilience";
import type { Runtime } from "@herald/runtime";
import { TEMPLATE_PREVIEW_PATH, TemplateCatalog } from "@herald/templates";
import { UserDirectory } from "@herald/users";
import { StatusWebhookDispatcher, WebhookEndpoints } from "@herald/status-webhooks";
import { Overview, publishMetrics, registerBacklogGauges } from "@herald/monitoring";
import { consoleRoutes } from "./routes/console";
import { eventRoutes } from "./routes/events";
import { operationsRoutes } from "./routes/operations";
import { dlqRoutes } from "./routes/dlq";
import { notificationRoutes } from "./routes/notifications";
import { sandboxRoutes } from "./routes/sandbox";
import { sandboxFaultRoutes } from "./routes/sandbox-faults";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints";

export interface Gateway {
  app: Express;
  relay: OutboxRelay;
  publisher: ConfirmPublisher;
  scheduler: DeliveryScheduler;
  writer: AcceptWriter;
  statusWebhooks: StatusWebhookDispatcher;
  retention: RetentionJob;
}

/**
 * Builds the gateway on an open runtime: the accept path (rate limit, idempotency, batched writes,
 * confirmed publishing), the outbox relay, the scheduler of scheduled and held deliveries, status
 * reads, events and routing rules, the proxies to the user and template services, and one OpenAPI
 * document for all of them. Registers its own cleanups; listen() is the caller's.
 */
export async function createGateway(runtime: Runtime): Promise<Gateway> {
  const { config, db, redis, amqp, logger, registry, releasers, checks } = runtime;

  const publisher = new ConfirmPublisher(amqp, undefined, publishMetrics(registry));
  await publisher.start();
  releasers.add("publisher", () => publisher.close());
  const outbox = new OutboxPublisher(db.pool, publisher, logger);
  releasers.add("outbox deletes", () => outbox.flush());
  const relay = new OutboxRelay(db.pool, publisher, logger, {
    intervalMs: config.outbox.relayIntervalMs,
    afterMs: config.outbox.relayAfterMs,
  });
  relay.start();
  releasers.add("outbox relay", () => relay.stop());

  const scheduler = new DeliveryScheduler(db.pool, outbox, logger, { intervalMs: config.scheduler.intervalMs, onDigests: digestMetrics(registry) });
  scheduler.start();
  releasers.add("scheduler", () => scheduler.stop());

  const statusWebhooks = statusWebhookDispatcher(runtime);
  statusWebhooks.start();
  releasers.add("status webhooks", () => statusWebhooks.stop());

  const users = new UserDirectory(db, redis, logger);
  const templates = new TemplateCatalog(db, redis, logger);
  const writer = new AcceptWriter(db.pool, { onWrite: writerMetrics(registry), onDeliveries: acceptedMetrics(registry) });
  const accept = new AcceptService({
    users,
    templates,
    rateLimiter: countRejections(registry, new UserRateLimiter(redis, { points: config.rateLimit.perUser, windowMs: config.rateLimit.windowMs })),
    idempotency: new IdempotencyCache(redis, config.idempotency.ttlMs),
    writer,
    outbox,
    idempotencyTtlMs: config.idempotency.ttlMs,
  });
  const queries = new NotificationQueries(db, users);
  const rules = new RoutingRules(db, redis, templates, logger);
  const overview = new Overview(db.pool, { managementUrl: config.rabbitmq.managementUrl, amqpUrl: config.rabbitmq.url });
  registerBacklogGauges(registry, overview, logger);
  const openApi = new OpenApiAggregator(
    [
      { name: "user-service", url: `${config.services.userServiceUrl}/openapi.json` },
      { name: "template-service", url: `${config.services.templateServiceUrl}/openapi.json` },
    ],
    { title: "Herald API" },
  );

  const purge = new IdempotencyPurge(db.pool, logger);
  purge.start();
  releasers.add("idempotency purge", () => purge.stop());

  const retention = new RetentionJob(db.pool, logger, { ...config.retention, onBatch: retentionMetrics(registry) });
  retention.start();
  releasers.add("retention", () => retention.stop());

  const app = createHttpApp({
    service: "api-gateway",
    logger,
    registry,
    metrics: runtime.metrics,
    checks,
    apiKeys: config.apiKeys,
    requestTimeoutMs: config.http.requestTimeoutMs,
    readOnlyKeys: config.readOnlyApiKeys,
    readOnlyPosts: [TEMPLATE_PREVIEW_PATH],
    openApi: (own) => openApi.document(own),
    bodyLimits: [{ path: "/notifications/send-bulk", limit: "4mb" }],
    publicRoutes: consoleRoutes,
    rawRoutes: (raw, auth) => {
      raw.use(["/users", "/templates"], auth);
      raw.use(serviceProxy(config.services.userServiceUrl, ["/users"], logger));
      raw.use(serviceProxy(config.services.templateServiceUrl, ["/templates"], logger));
    },
    routes: (api) => {
      notificationRoutes(api, accept, queries, db);
      eventRoutes(api, new EventService(rules, accept), rules);
      dlqRoutes(api, runtime, outbox);
      webhookEndpointRoutes(api, new WebhookEndpoints(db));
      operationsRoutes(api, overview, db);
      if (config.env !== "production") sandboxRoutes(api, db);
      if (config.env !== "production") sandboxFaultRoutes(api, config, redis);
    },
  });
  return { app, relay, publisher, scheduler, writer, statusWebhooks, retention };
}

/** Deliveries as the accept decided them, by channel and status: queued, held, throttled, digesting, suppressed, ... */
function acceptedMetrics(registry: Registry): (deliveries: DeliveryRow[]) => void {
  const accepted = new prom.Counter({
    name: "accepted_deliveries_total",
    help: "Deliveries created by accepted sends, by channel and the status the accept gave them (throttled: past a send's throttle; digesting: collected into a digest window)",
    labelNames: ["channel", "status"],
    registers: [registry],
  });
  return (deliveries) => {
    for (const d of deliveries) accepted.inc({ channel: d.channel, status: d.status });
  };
}

/** What the retention sweep deleted, per table, and how long each of its batches took. */
function retentionMetrics(registry: Registry): (deleted: RetentionDeleted, seconds: number) => void {
  const rows = new prom.Counter({
    name: "retention_deleted_rows_total",
    help: "Rows deleted by the retention sweep (RETENTION_DAYS), by table",
    labelNames: ["table"],
    registers: [registry],
  });
  const duration = new prom.Histogram({
    name: "retention_batch_duration_seconds",
    help: "Time of each retention batch transaction (at most RETENTION_BATCH_SIZE notifications)",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return (deleted, seconds) => {
    duration.observe(seconds);
    for (const [table, count] of Object.entries(deleted) as [string, number][]) if (count > 0) rows.inc({ table }, count);
  };
}

/** Released digest windows, and the deliveries folded into their carriers. */
function digestMetrics(registry: Registry): (release: DigestRelease) => void {
  const windows = new prom.Counter({ name: "digest_windows_released_total", help: "Digest windows released by the scheduler (each sends one delivery)", registers: [registry] });
  const digested = new prom.Counter({
    name: "deliveries_digested_total",
    help: "Deliveries folded into a digest (status digested), by channel",
    labelNames: ["channel"],
    registers: [registry],
  });
  return (release) => {
    windows.inc(release.windows);
    for (const [channel, count] of release.digested) digested.inc({ channel }, count);
  };
}

/**
 * The status webhook dispatcher of this gateway (every replica runs one; they share the events
 * through SKIP LOCKED), with the webhook channel's timeout and SSRF guard, and its metric.
 */
function statusWebhookDispatcher({ db, logger, registry, config }: Runtime): StatusWebhookDispatcher {
  const posts = new prom.Counter({
    name: "status_webhook_posts_total",
    help: "Status webhook posts by outcome: delivered, retrying (failed, will be retried), gave_up (failed its last attempt)",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const { retryScheduleMs, ...options } = config.statusWebhooks;
  return new StatusWebhookDispatcher(db.pool, logger, {
    ...options,
    scheduleMs: retryScheduleMs,
    http: { timeoutMs: config.webhook.timeoutMs, allowPrivate: config.webhook.allowPrivate },
    onPost: (outcome) => posts.inc({ outcome }),
  });
}

/** The accept writer's statements: how long they take and how many sends each carries. */
function writerMetrics(registry: Registry): (items: number, seconds: number) => void {
  const duration = new prom.Histogram({
    name: "accept_write_duration_seconds",
    help: "Time of each accept write (one statement, or a transaction when idempotency keys are claimed)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const items = new prom.Counter({ name: "accept_written_items_total", help: "Sends written by the accept writer", registers: [registry] });
  return (count, seconds) => {
    duration.observe(seconds);
    items.inc(count);
  };
}

/** rate_limit_rejections_total: sends refused with 429 because their user's API rate limit was spent. */
function countRejections(registry: Registry, limiter: UserRateLimiter): Pick<UserRateLimiter, "consume" | "refund"> {
  const rejected = new prom.Counter({ name: "rate_limit_rejections_total", help: "Sends refused with 429: the user's RATE_LIMIT_PER_USER was spent", registers: [registry] });
  return {
    consume: async (key: string) => {
      const decision = await limiter.consume(key);
      if (!decision.allowed) rejected.inc();
      return decision;
    },
    refund: (key: string) => limiter.refund(key),
  };
}
