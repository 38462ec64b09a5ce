import { z } from "zod";

/** Milliseconds of whole seconds or a duration such as "60s", "2m", "500ms", "1h", "2d"; undefined when it is neither. */
export function parseDuration(value: number | string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(String(value).trim());
  if (!match) return undefined;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? "s"] ?? 1000;
  return Math.round(Number(match[1]) * factor);
}

/** Whole seconds or a duration such as "60s", "2m", "500ms"; always read as milliseconds. */
const duration = (defaultMs: number) =>
  z
    .union([z.number(), z.string()])
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === "") return defaultMs;
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: `expected seconds or a duration like 60s, 2m, 500ms; got "${value}"` });
        return z.NEVER;
      }
      return ms;
    });

/**
 * A duration in a request body (a digest's or a throttle's window): seconds as a number, or a
 * string such as "30s", "10m", "1h"; read as milliseconds, between `minMs` and `maxMs`.
 */
export const durationField = (minMs: number, maxMs: number) =>
  z
    .union([z.number().min(0), z.string().max(32)])
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: 'must be seconds or a duration such as "30s", "10m", "1h"' });
        return z.NEVER;
      }
      if (ms < minMs || ms > maxMs) {
        ctx.addIssue({ code: "custom", message: `must be between ${minMs / 1000} s and ${maxMs / 1000} s` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: 'Seconds, or a duration such as "30s", "10m", "1h"' });

const int = (defaultValue: number, min = 0) => z.coerce.number().int().min(min).default(defaultValue);
const port = (defaultValue: number) => z.coerce.number().int().min(0).max(65535).default(defaultValue);
const bool = (defaultValue: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", ""])
    .optional()
    .transform((v) => (v === undefined || v === "" ? defaultValue : ["true", "1", "yes"].includes(v)));
/** Whole sends per second allowed to a provider; 0 (the default) is unlimited. */
const rate = () => z.coerce.number().int().min(0).max(100_000).default(0);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
const url = (defaultValue: string, protocols: string[]) =>
  z
    .string()
    .default(defaultValue)
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`);

/** A comma-separated list of durations, such as "0,5s,5m": milliseconds each; at least one. */
const durationList = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((value, ctx) => {
      const parts = value.split(",").map((p) => p.trim());
      const ms = parts.map((p) => parseDuration(p));
      if (parts.length === 0 || ms.some((m) => m === undefined)) {
        ctx.addIssue({ code: "custom", message: `expected comma-separated durations like 0,5s,5m; got "${value}"` });
        return z.NEVER;
      }
      return ms as number[];
    });

/** The channels, as configuration names them (libs/db has the same list from the schema). */
const CHANNEL_NAMES = ["email", "push", "sms", "whatsapp", "webhook", "slack"] as const;
/** A comma-separated list of channels; empty is none. */
const channelList = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((value, ctx) => {
      const names = value.split(",").map((n) => n.trim()).filter(Boolean);
      const unknown = names.filter((n) => !(CHANNEL_NAMES as readonly string[]).includes(n));
      if (unknown.length > 0) {
        ctx.addIssue({ code: "custom", message: `unknown channel ${unknown.join(", ")}; channels are ${CHANNEL_NAMES.join(", ")}` });
        return z.NEVER;
      }
      return names as (typeof CHANNEL_NAMES)[number][];
    });

/** One SMTP relay of SMTP_URLS: smtp://[user[:password]@]host[:port] or smtps://... */
export interface SmtpServer {
  host: string;
  port: number;
  secure: boolean;
  user: string | undefined;
  password: string | undefined;
}

/** SMTP_URLS: comma-separated relays in order of preference (unset or empty: none). */
const smtpUrls = z
  .string()
  .optional()
  .transform((value, ctx): SmtpServer[] => {
    const servers: SmtpServer[] = [];
    for (const part of (value ?? "").split(",").map((p) => p.trim()).filter(Boolean)) {
      let url: URL;
      try {
        url = new URL(part);
      } catch {
        ctx.addIssue({ code: "custom", message: `"${part.replace(/\/\/[^@/]*@/, "//***@")}" is not a URL (smtp://host:port or smtps://user:password@host:port)` });
        return z.NEVER;
      }
      if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
        ctx.addIssue({ code: "custom", message: `relays must be smtp:// or smtps:// URLs, got ${url.protocol}//` });
        return z.NEVER;
      }
      const secure = url.protocol === "smtps:";
      servers.push({
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port ? Number(url.port) : secure ? 465 : 587,
        secure,
        user: url.username ? decodeURIComponent(url.username) : undefined,
        password: url.password ? decodeURIComponent(url.password) : undefined,
      });
    }
    return servers;
  });

/** Every environment variable the platform reads, with its default. The contract lists them. */
export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["error", "warn", "info", "http", "debug", "silly"]).default("info"),

  DATABASE_URL: url("postgresql://postgres@127.0.0.1:5432/notifications", ["postgresql:", "postgres:"]),
  DATABASE_POOL_SIZE: int(10, 1),
  REDIS_URL: url("redis://127.0.0.1:6379", ["redis:", "rediss:"]),
  REDIS_KEY_PREFIX: z.string().default("herald:"),
  RABBITMQ_URL: url("amqp://guest:guest@127.0.0.1:5672", ["amqp:", "amqps:"]),
  // classic (one queue per channel group, with priorities) or quorum (replicated; a priority queue each).
  RABBITMQ_QUEUE_TYPE: z.enum(["classic", "quorum"]).default("classic"),
  RABBITMQ_MANAGEMENT_URL: url("http://guest:guest@127.0.0.1:15672", ["http:", "https:"]),

  API_KEYS: optionalString,

  GATEWAY_PORT: port(8000),
  EMAIL_WORKER_PORT: port(8001),
  PUSH_WORKER_PORT: port(8002),
  USER_SERVICE_PORT: port(8003),
  TEMPLATE_SERVICE_PORT: port(8004),
  SMS_WORKER_PORT: port(8005),
  WEBHOOK_WORKER_PORT: port(8006),
  DEV_INBOX_PORT: port(8007),
  DEV_SMTP_PORT: port(1025),
  DEV_SMTP_HOST: z.string().default("127.0.0.1"),
  USER_SERVICE_URL: optionalString,
  TEMPLATE_SERVICE_URL: optionalString,

  // Relays in order of preference, each with its own breaker; replaces SMTP_HOST ... SMTP_SECURE.
  SMTP_URLS: smtpUrls,
  SMTP_HOST: optionalString,
  SMTP_PORT: port(587),
  SMTP_USER: optionalString,
  SMTP_PASSWORD: optionalString,
  SMTP_SECURE: bool(false),
  SMTP_MAX_CONNECTIONS: int(5, 1),
  SMTP_TIMEOUT: duration(15_000),
  EMAIL_FROM: z.string().default("Herald <no-reply@herald.local>"),

  FIREBASE_SERVICE_ACCOUNT: optionalString,
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_FROM: optionalString,
  TWILIO_WHATSAPP_FROM: optionalString,
  // A second Twilio account (or the same with another sender) to fail over to.
  TWILIO_FALLBACK_ACCOUNT_SID: optionalString,
  TWILIO_FALLBACK_AUTH_TOKEN: optionalString,
  TWILIO_FALLBACK_FROM: optionalString,
  TWILIO_FALLBACK_WHATSAPP_FROM: optionalString,
  // Outside production: after every real provider of a channel, the dev inbox / sandbox.
  SANDBOX_FALLBACK: bool(false),
  PUSH_TIMEOUT: duration(10_000),
  TWILIO_TIMEOUT: duration(10_000),
  EMAIL_RATE_PER_SECOND: rate(),
  PUSH_RATE_PER_SECOND: rate(),
  SMS_RATE_PER_SECOND: rate(),
  WHATSAPP_RATE_PER_SECOND: rate(),

  CIRCUIT_BREAKER_FAILURE_THRESHOLD: int(5, 1),
  CIRCUIT_BREAKER_RECOVERY_TIMEOUT: duration(60_000),
  MAX_RETRY_ATTEMPTS: int(3, 0),
  RETRY_BASE_DELAY_MS: int(2000, 1),
  WORKER_PREFETCH: int(50, 1),
  DELIVERY_LEASE: duration(60_000),
  // Worker instances: how often each writes its heartbeat, and after how long without one its
  // claims are decided by the next worker that sees them.
  WORKER_HEARTBEAT: duration(2000),
  WORKER_DEAD_AFTER: duration(10_000),
  // No message of a worker made progress for this long: /health/ready says stalled (0: derived
  // from the longest provider deadline).
  WORKER_STALL_AFTER: duration(0),
  // Channels whose attempt a dead worker left on the wire are sent again (the receiver can drop
  // the copy by its stable id); the others are dead-lettered as delivery_interrupted.
  INTERRUPTED_RESEND_CHANNELS: channelList("email,push,webhook"),
  // Gateway processes `npm start` runs behind one port (node:cluster).
  GATEWAY_PROCESSES: int(2, 1),

  // A request whose body has not arrived this long after its headers is answered 408.
  HTTP_REQUEST_TIMEOUT: duration(15_000),

  RATE_LIMIT_PER_USER: int(100, 1),
  RATE_LIMIT_WINDOW: duration(60_000),
  IDEMPOTENCY_TTL: duration(24 * 3_600_000),
  OUTBOX_RELAY_INTERVAL: duration(1000),
  OUTBOX_RELAY_AFTER: duration(5000),
  SCHEDULER_INTERVAL: duration(1000),
  // Retention (the gateway's background sweep): notifications older than RETENTION_DAYS whose
  // deliveries are all finished go, with their deliveries, attempts and dead letters (0 keeps
  // everything); at most RETENTION_BATCH_SIZE per transaction; RETENTION_INTERVAL between sweeps.
  RETENTION_DAYS: int(30, 0),
  RETENTION_BATCH_SIZE: int(500, 1),
  RETENTION_INTERVAL: duration(60_000),

  // Webhook and Slack worker. WEBHOOK_ALLOW_PRIVATE unset: loopback only outside production (never
  // link-local, metadata or private ranges), nothing but public addresses in production; true
  // turns the guard off, false refuses loopback too.
  WEBHOOK_TIMEOUT: duration(10_000),
  WEBHOOK_ALLOW_PRIVATE: z.enum(["true", "false", "1", "0", "yes", "no", "loopback", ""]).optional(),
  WEBHOOK_CONCURRENCY: int(20, 1),
  WEBHOOK_BREAKER_FAILURE_THRESHOLD: int(20, 1),
  // Dead-letter replay: dead letters replayed per second, across every gateway.
  DLQ_REPLAY_RATE: int(100, 1),

  // Status webhooks (/webhook-endpoints): the wait before each attempt (Standard Webhooks'
  // schedule; the event is given up after the last), how often the gateway looks for due events,
  // how long an endpoint may fail before it is disabled, posts in flight, how long finished
  // events are kept.
  STATUS_WEBHOOK_RETRY_SCHEDULE: durationList("0,5s,5m,30m,2h,5h,10h,10h"),
  STATUS_WEBHOOK_INTERVAL: duration(1000),
  STATUS_WEBHOOK_DISABLE_AFTER: duration(5 * 86_400_000),
  STATUS_WEBHOOK_CONCURRENCY: int(10, 1),
  STATUS_WEBHOOK_RETENTION: duration(86_400_000),
});

export type Env = z.infer<typeof envSchema>;
