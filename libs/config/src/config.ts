import { randomBytes } from "node:crypto";
import { z } from "zod";
import { envSchema, type Env } from "./schema";

/** Which non-public addresses webhooks may reach: none, loopback only, or all (SSRF guard off). */
export type WebhookPrivateAccess = "none" | "loopback" | "all";

function webhookPrivateAccess(value: Env["WEBHOOK_ALLOW_PRIVATE"], env: Env["NODE_ENV"]): WebhookPrivateAccess {
  if (value === undefined || value === "") return env === "production" ? "none" : "loopback";
  if (value === "loopback") return "loopback";
  return ["true", "1", "yes"].includes(value) ? "all" : "none";
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = "ConfigError";
  }
}

type Source = Record<string, string | undefined>;

/** Variables whose value is never repeated in an error message. */
const SECRETS = new Set(["API_KEYS", "SMTP_PASSWORD", "TWILIO_AUTH_TOKEN", "TWILIO_FALLBACK_AUTH_TOKEN", "FIREBASE_SERVICE_ACCOUNT"]);

/** A value with the credentials of any URL in it masked. */
function redact(value: string): string {
  return value.replace(/\/\/[^@/\s,]*@/g, "//***@");
}

/**
 * The environment as the code reads it, built from the parsed variables in one place: every
 * variable is written once (in envSchema) and `Config` is what this transform returns. The
 * cross-variable rules (API keys) are issues on the variable they name.
 */
export const configSchema = envSchema.transform((e, ctx) => {
  const entries = (e.API_KEYS ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  // `key:read` marks a read-only key; the key itself is what precedes the suffix.
  const readOnlyApiKeys = entries.filter((k) => k.endsWith(":read")).map((k) => k.slice(0, -":read".length).trim());
  const apiKeys = entries.map((k) => (k.endsWith(":read") ? k.slice(0, -":read".length).trim() : k));
  const problem = (message: string) => {
    ctx.addIssue({ code: "custom", path: ["API_KEYS"], message });
    return z.NEVER;
  };
  if (apiKeys.some((k) => k === "")) return problem("has an entry that is only the :read suffix");
  if (apiKeys.length > 0 && readOnlyApiKeys.length === apiKeys.length && e.NODE_ENV === "production") {
    return problem("lists only read-only keys: nothing could change anything (give at least one key without :read)");
  }
  let generatedApiKey: string | undefined;
  if (apiKeys.length === 0) {
    if (e.NODE_ENV === "production") return problem("is required in production (comma-separated keys)");
    generatedApiKey = `dev_${randomBytes(16).toString("hex")}`;
    apiKeys.push(generatedApiKey);
  }
  const local = (p: number) => `http://127.0.0.1:${p}`;
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    redis: { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX },
    /** queueType: RABBITMQ_QUEUE_TYPE, classic or quorum. */
    rabbitmq: { url: e.RABBITMQ_URL, managementUrl: e.RABBITMQ_MANAGEMENT_URL, queueType: e.RABBITMQ_QUEUE_TYPE },
    /** Accepted API keys. Outside production, an unset API_KEYS yields one generated dev key. */
    apiKeys,
    /** The keys of apiKeys that may only read (written `key:read` in API_KEYS): any write is 403. */
    readOnlyApiKeys,
    /** Set when the key was generated because API_KEYS was unset (development and test only). */
    generatedApiKey,
    ports: {
      gateway: e.GATEWAY_PORT,
      emailWorker: e.EMAIL_WORKER_PORT,
      pushWorker: e.PUSH_WORKER_PORT,
      userService: e.USER_SERVICE_PORT,
      templateService: e.TEMPLATE_SERVICE_PORT,
      smsWorker: e.SMS_WORKER_PORT,
      webhookWorker: e.WEBHOOK_WORKER_PORT,
      devInbox: e.DEV_INBOX_PORT,
      devSmtp: e.DEV_SMTP_PORT,
    },
    /** Where the dev inbox listens (0.0.0.0 in a container). */
    devSmtpHost: e.DEV_SMTP_HOST,
    services: {
      userServiceUrl: e.USER_SERVICE_URL ?? local(e.USER_SERVICE_PORT),
      templateServiceUrl: e.TEMPLATE_SERVICE_URL ?? local(e.TEMPLATE_SERVICE_PORT),
    },
    smtp: {
      /**
       * The relays, in order of preference (SMTP_URLS, or the one of SMTP_HOST...); empty: email goes
       * to the built-in dev inbox on 127.0.0.1:devSmtp.
       */
      servers: (e.SMTP_URLS.length > 0
        ? e.SMTP_URLS
        : e.SMTP_HOST
          ? [{ host: e.SMTP_HOST, port: e.SMTP_PORT, secure: e.SMTP_SECURE, user: e.SMTP_USER, password: e.SMTP_PASSWORD }]
          : []),
      /** Unset: email goes to the built-in dev inbox on 127.0.0.1:devSmtp. */
      host: e.SMTP_URLS[0]?.host ?? e.SMTP_HOST,
      port: e.SMTP_PORT,
      user: e.SMTP_USER,
      password: e.SMTP_PASSWORD,
      secure: e.SMTP_SECURE,
      maxConnections: e.SMTP_MAX_CONNECTIONS,
      timeoutMs: e.SMTP_TIMEOUT,
      from: e.EMAIL_FROM,
    },
    /** Unset service account: push goes to the sandbox provider (never in production). */
    firebase: { serviceAccount: e.FIREBASE_SERVICE_ACCOUNT, timeoutMs: e.PUSH_TIMEOUT },
    /** Unset credentials: sms and whatsapp go to the sandbox provider (never in production). */
    twilio: {
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      from: e.TWILIO_FROM,
      whatsappFrom: e.TWILIO_WHATSAPP_FROM,
      timeoutMs: e.TWILIO_TIMEOUT,
      /** A second account to fail over to (TWILIO_FALLBACK_*), when its SID and token are set. */
      fallback:
        e.TWILIO_FALLBACK_ACCOUNT_SID && e.TWILIO_FALLBACK_AUTH_TOKEN
          ? {
              accountSid: e.TWILIO_FALLBACK_ACCOUNT_SID,
              authToken: e.TWILIO_FALLBACK_AUTH_TOKEN,
              from: e.TWILIO_FALLBACK_FROM ?? e.TWILIO_FROM,
              whatsappFrom: e.TWILIO_FALLBACK_WHATSAPP_FROM ?? e.TWILIO_WHATSAPP_FROM,
            }
          : undefined,
    },
    /** Outside production, the dev inbox / sandbox is every channel's last provider (SANDBOX_FALLBACK). */
    sandboxFallback: e.SANDBOX_FALLBACK && e.NODE_ENV !== "production",
    /** Outbound sends per second per channel, shared by every replica through Redis; 0 = unlimited. */
    outboundRates: {
      email: e.EMAIL_RATE_PER_SECOND,
      push: e.PUSH_RATE_PER_SECOND,
      sms: e.SMS_RATE_PER_SECOND,
      whatsapp: e.WHATSAPP_RATE_PER_SECOND,
    },
    breaker: { failureThreshold: e.CIRCUIT_BREAKER_FAILURE_THRESHOLD, recoveryTimeoutMs: e.CIRCUIT_BREAKER_RECOVERY_TIMEOUT },
    /** MAX_RETRY_ATTEMPTS (retries after the first attempt) and RETRY_BASE_DELAY_MS: the retry policy. */
    retry: { maxRetries: e.MAX_RETRY_ATTEMPTS, baseDelayMs: e.RETRY_BASE_DELAY_MS },
    /**
     * prefetch: unacked messages per worker; heartbeatMs / deadAfterMs: how often an instance beats
     * and after how long without a beat its claims are decided; leaseMs: the same for claims that
     * name no instance (taken before instances existed); stallAfterMs: no progress for this long is
     * a stalled worker (0: derived from its providers' deadlines); resendInterrupted: channels whose
     * on-the-wire attempts of a dead worker are sent again rather than dead-lettered.
     */
    worker: {
      prefetch: e.WORKER_PREFETCH,
      leaseMs: e.DELIVERY_LEASE,
      heartbeatMs: e.WORKER_HEARTBEAT,
      deadAfterMs: Math.max(e.WORKER_DEAD_AFTER, 2 * e.WORKER_HEARTBEAT),
      stallAfterMs: e.WORKER_STALL_AFTER,
      resendInterrupted: e.INTERRUPTED_RESEND_CHANNELS,
    },
    /** processes: gateway processes sharing its port under `npm start`. */
    gateway: { processes: e.GATEWAY_PROCESSES },
    /** requestTimeoutMs: HTTP_REQUEST_TIMEOUT, the time a request's body has to arrive (408 after). */
    http: { requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT },
    rateLimit: { perUser: e.RATE_LIMIT_PER_USER, windowMs: e.RATE_LIMIT_WINDOW },
    idempotency: { ttlMs: e.IDEMPOTENCY_TTL },
    outbox: { relayIntervalMs: e.OUTBOX_RELAY_INTERVAL, relayAfterMs: e.OUTBOX_RELAY_AFTER },
    /** How often the gateway's scheduler releases due scheduled and held deliveries. */
    scheduler: { intervalMs: e.SCHEDULER_INTERVAL },
    /** RETENTION_DAYS (0: keep everything), RETENTION_BATCH_SIZE, RETENTION_INTERVAL: the gateway's retention sweep. */
    retention: { days: e.RETENTION_DAYS, batchSize: e.RETENTION_BATCH_SIZE, intervalMs: e.RETENTION_INTERVAL },
    /**
     * Webhook and Slack: request timeout; allowPrivate says which non-public addresses URLs may reach
     * (the SSRF guard): "none" (production's default), "loopback" (127.0.0.0/8 and ::1 only, the
     * default elsewhere; link-local, cloud metadata, private and shared ranges stay refused) or
     * "all" (guard off); breakerFailureThreshold is the webhook worker's breaker threshold.
     */
    webhook: {
      timeoutMs: e.WEBHOOK_TIMEOUT,
      allowPrivate: webhookPrivateAccess(e.WEBHOOK_ALLOW_PRIVATE, e.NODE_ENV),
      concurrency: e.WEBHOOK_CONCURRENCY,
      breakerFailureThreshold: e.WEBHOOK_BREAKER_FAILURE_THRESHOLD,
    },
    /** replayRate: dead letters a bulk replay sends per second. */
    dlq: { replayRate: e.DLQ_REPLAY_RATE },
    /**
     * Status webhooks: retryScheduleMs is the wait before each attempt (the last failed attempt
     * gives the event up); intervalMs how often due events are looked for; an endpoint failing for
     * disableAfterMs is disabled; concurrency posts in flight; retentionMs how long finished events
     * are kept. Timeout and SSRF guard are the webhook channel's (WEBHOOK_TIMEOUT, WEBHOOK_ALLOW_PRIVATE).
     */
    statusWebhooks: {
      retryScheduleMs: e.STATUS_WEBHOOK_RETRY_SCHEDULE,
      intervalMs: e.STATUS_WEBHOOK_INTERVAL,
      disableAfterMs: e.STATUS_WEBHOOK_DISABLE_AFTER,
      concurrency: e.STATUS_WEBHOOK_CONCURRENCY,
      retentionMs: e.STATUS_WEBHOOK_RETENTION,
    },
  };
});

/** The configuration every process reads: what configSchema makes of the environment. */
export type Config = z.output<typeof configSchema>;

/** Parses the environment once. Throws a ConfigError naming the first bad variable. */
export function loadConfig(source: Source): Config {
  const parsed = configSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? "environment");
    const value = source[variable];
    throw new ConfigError(variable, `${issue?.message ?? "is invalid"}${value === undefined || SECRETS.has(variable) ? "" : ` (got "${redact(value)}")`}`);
  }
  return parsed.data;
}

/** The process environment: the one place in the code base that reads process.env. */
export function processEnv(): Source {
  return process.env;
}

/** For a process's main(): parse the environment, or print one line and exit 1. */
export function loadConfigOrExit(overrides: Source = {}): Config {
  try {
    return loadConfig({ ...processEnv(), ...overrides });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
