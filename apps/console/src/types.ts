/** The shapes the console reads from the API (see /openapi.json). */
export interface MinuteRate {
  minute: string;
  channel: string;
  provider: string;
  sent: number;
  failed: number;
}

export interface QueueStat {
  queue: string;
  ready: number;
  unacked: number;
  consumers: number;
  oldest_age_seconds: number | null;
}

export interface WorkerInstance {
  id: string;
  service: string;
  host: string;
  pid: number;
  started_at: string;
  heartbeat_at: string;
  info: { queue?: string; consuming?: boolean; in_flight?: number; breakers?: Record<string, string>; ready?: boolean; reason?: string; [k: string]: unknown };
}

export interface Overview {
  at: string;
  rates: MinuteRate[];
  queues: QueueStat[] | null;
  queues_error?: string;
  outbox: { pending: number; oldest_age_seconds: number | null };
  backlog: { scheduled: number; held: number };
  dead_letters: { total: number; by_error_code: { error_code: string; channel: string | null; count: number }[] };
  workers: WorkerInstance[];
  breakers: { provider: string; state: string; instances: Record<string, number> }[];
}

export interface Delivery {
  delivery_id: string;
  channel: string;
  status: string;
  attempts: number;
  last_error: string | null;
  last_error_code: string | null;
  provider_message_id: string | null;
  provider?: string | null;
  release_at: string | null;
  sent_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface NotificationRequest {
  request_id: string;
  user_id: string;
  user_ref: string;
  template_id: string | null;
  priority: string;
  status: string;
  source: string;
  correlation_id: string;
  created_at: string;
  deliveries: Delivery[];
}

export interface TimelineEvent {
  at: string;
  step: string;
  delivery_id?: string;
  channel?: string;
  provider?: string | null;
  attempt?: number;
  reason?: string;
  error_code?: string;
  wait_ms?: number;
  details?: Record<string, unknown>;
}

export interface DeadLetter {
  id: string;
  delivery_id: string | null;
  request_id: string | null;
  channel: string | null;
  correlation_id: string | null;
  error_code: string;
  error: string;
  attempts: number;
  created_at: string;
  replayed_at: string | null;
  replay_count: number;
}

export interface DeadLetterDetail extends DeadLetter {
  message: { routing_key: string | null; payload: unknown; headers: unknown };
  delivery: { status: string; attempts: number; last_error: string | null } | null;
  attempt_log: { attempt: number; error_code: string; error: string; retryable: boolean; at: string }[];
}

export interface SandboxMessage {
  id: string;
  channel: string;
  to: string;
  subject: string | null;
  body: string | null;
  html: string | null;
  payload: unknown;
  delivery_id: string | null;
  created_at: string;
}

export interface TemplateVersion {
  version_id: string;
  template_id: string;
  channel: string;
  language: string;
  version: number;
  subject: string | null;
  body_text: string;
  body_html: string | null;
  title: string | null;
  variables: string[];
  created_at: string;
}

export interface Template {
  template_id: string;
  name: string;
  default_language: string;
  variants: TemplateVersion[];
}

export interface AuditEntry {
  id: string;
  at: string;
  key_id: string;
  action: string;
  target: { type: string; id: string };
  before: unknown;
  after: unknown;
}
