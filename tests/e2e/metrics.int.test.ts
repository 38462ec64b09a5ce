import fs from "node:fs";
import path from "node:path";
import request from "supertest";
import type { Express } from "express";
import { parse } from "yaml";
import { createHttpApp } from "@herald/http";
import { createTestEnv, FakeSmtp, waitFor, type TestEnv } from "@herald/testkit";
import { createDeviceUser } from "../support/channels";
import { createMultiChannelTemplate } from "../support/gateway";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startApi, startEmailWorker, statusOf } from "../support/system";

const ROOT = path.resolve(__dirname, "..", "..");

/** `name{labels} value` samples of a Prometheus text answer. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line)!;
      const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** Every metric name an answer exposes: declared families (with a histogram's series) and samples. */
function exposedNames(text: string): Set<string> {
  const names = new Set(samples(text).map((s) => s.name));
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(`${name}${suffix}`);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  "sum", "max", "min", "avg", "count", "rate", "irate", "increase", "deriv", "delta", "idelta", "histogram_quantile", "absent", "clamp_min", "clamp_max",
  "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool", "topk", "bottomk", "avg_over_time", "max_over_time",
]);

/** The metric names a PromQL expression reads (label matchers, groupings, durations, strings and functions taken out). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, " ");
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word));
}

describe("/metrics of a running system, and the dashboard and alert rules that read them", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let gateway: Express;
  let worker: Express;
  let services: { users: Express; templates: Express };
  const scrape = async (app: Express) => {
    const res = await request(app).get("/metrics");
    expect(res.status).toBe(200);
    return res.text;
  };

  beforeAll(async () => {
    env = await createTestEnv();
    smtp = new FakeSmtp();
    await smtp.start();
    const api = await startApi(env);
    gateway = api.app;
    services = api.services;
    const email = await startEmailWorker(env, smtp.port);
    worker = createHttpApp({ service: "email-worker", logger: email.runtime.logger, registry: email.runtime.registry, checks: email.runtime.checks });
    await createWelcomeTemplate(gateway);
    await createMultiChannelTemplate(gateway, "ping", ["push"]);
  });

  afterAll(async () => {
    await env.cleanup();
    await smtp.stop();
  });

  it("the gateway and a worker expose the backlog, queue, publish, delivery, breaker and HTTP metrics", async () => {
    const user = await createUser(gateway);
    const sent = await sendEmail(gateway, user.id);
    expect(sent.status).toBe(202);
    await waitFor(async () => (await statusOf(gateway, sent.body.data.request_id as string)).status === "sent", { what: "the email sent" });
    // No push worker runs: this message waits in push.queue, and its age shows.
    const device = await createDeviceUser(gateway, [["metrics-token-1", "android"]]);
    expect((await request(gateway).post("/notifications/send").set(AUTH).send({ user_id: device.id, channel: "push", template_id: "ping", variables: { name: "x" } })).status).toBe(202);

    const gatewayText = await waitFor(
      async () => {
        const text = await scrape(gateway);
        const age = samples(text).find((s) => s.name === "queue_oldest_message_age_seconds" && s.labels.queue === "push.queue");
        return age && age.value >= 1 ? text : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 500, what: "push.queue's oldest message age on the gateway's /metrics" },
    );
    const g = samples(gatewayText);
    const one = (name: string, labels: Record<string, string> = {}) => g.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(one("queue_messages", { queue: "push.queue", state: "ready" })[0]?.value).toBe(1);
    expect(one("queue_messages", { queue: "email.queue", state: "unacked" })).toHaveLength(1);
    expect(one("queue_consumers", { queue: "email.queue" })[0]?.value).toBe(1);
    expect(one("queue_consumers", { queue: "push.queue" })[0]?.value).toBe(0);
    expect(one("outbox_pending_rows")).toHaveLength(1);
    expect(one("outbox_oldest_age_seconds")).toHaveLength(1);
    expect(one("deliveries_awaiting_release", { status: "scheduled" })[0]?.value).toBe(0);
    expect(one("deliveries_awaiting_release", { status: "held" })).toHaveLength(1);
    expect(one("worker_instances_alive", { service: "email-worker" })[0]?.value).toBe(1);
    expect(one("amqp_published_messages_total")[0]?.value).toBeGreaterThanOrEqual(2);
    expect(one("amqp_confirmed_messages_total")[0]?.value).toBeGreaterThanOrEqual(2);
    expect(one("amqp_refused_messages_total")).toHaveLength(1);
    expect(one("rate_limit_rejections_total")).toHaveLength(1);
    expect(one("http_request_duration_seconds_count", { route: "/notifications/send", status: "202" })[0]?.value).toBeGreaterThanOrEqual(2);
    expect(gatewayText).toMatch(/^# TYPE dead_letters_open gauge$/m);

    const w = samples(await scrape(worker));
    const smtpProvider = `smtp:127.0.0.1:${smtp.port}`;
    const fromWorker = (name: string, labels: Record<string, string> = {}) => w.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(fromWorker("deliveries_total", { channel: "email", provider: smtpProvider, outcome: "sent" })[0]?.value).toBe(1);
    expect(fromWorker("delivery_attempts_total", { channel: "email", provider: smtpProvider, result: "sent" })[0]?.value).toBe(1);
    expect(fromWorker("messages_consumed_total", { queue: "email.queue" })[0]?.value).toBeGreaterThanOrEqual(1);
    expect(fromWorker("circuit_breaker_state", { provider: smtpProvider })[0]?.value).toBe(0);
    expect(fromWorker("delivery_send_seconds_count", { channel: "email" })[0]?.value).toBe(1);
    expect(fromWorker("amqp_published_messages_total")).toHaveLength(1);
  }, 90_000);

  it("every metric the Grafana dashboard and the alert rules use is one the processes expose", async () => {
    const exposed = new Set<string>();
    for (const app of [gateway, worker, services.users, services.templates]) for (const name of exposedNames(await scrape(app))) exposed.add(name);

    const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, "deploy", "grafana", "dashboards", "herald.json"), "utf8")) as {
      uid: string;
      panels: { id: number; title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
    };
    expect(dashboard.uid).toBe("herald-overview");
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    const datasource = parse(fs.readFileSync(path.join(ROOT, "deploy", "grafana", "provisioning", "datasources", "prometheus.yml"), "utf8")) as { datasources: { uid: string }[] };
    const rules = parse(fs.readFileSync(path.join(ROOT, "deploy", "prometheus", "alerts.yml"), "utf8")) as {
      groups: { name: string; rules: { alert: string; expr: string; for: string; labels: { severity: string }; annotations: { summary: string; description: string } }[] }[];
    };
    const used: { where: string; name: string }[] = [];
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid).toBe(datasource.datasources[0]!.uid);
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) for (const name of metricNames(target.expr)) used.push({ where: `panel "${panel.title}"`, name });
    }
    const alerts = rules.groups.flatMap((g) => g.rules);
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining(["HeraldQueueBacklogGrowing", "HeraldBreakerOpen", "HeraldDeadLettersGrowing", "HeraldNoConsumers", "HeraldOutboxStale"]),
    );
    for (const rule of alerts) {
      expect([rule.alert, /^\d+[smh]$/.test(rule.for), ["warning", "critical"].includes(rule.labels.severity), Boolean(rule.annotations.summary && rule.annotations.description)]).toEqual([rule.alert, true, true, true]);
      for (const name of metricNames(rule.expr)) used.push({ where: `alert ${rule.alert}`, name });
    }
    expect(used.length).toBeGreaterThan(30);
    expect(used.filter((u) => !exposed.has(u.name))).toEqual([]);
  });

  it("reads metric names out of PromQL (a name that is not exposed would be caught)", () => {
    expect(metricNames('max by (queue) (queue_messages{state="ready", queue=~"(email|push)\\\\.queue"}) > 1000')).toEqual(["queue_messages"]);
    expect(metricNames("histogram_quantile(0.95, sum by (le, channel) (rate(delivery_send_seconds_bucket[5m])))")).toEqual(["delivery_send_seconds_bucket"]);
    expect(metricNames("sum(rate(no_such_metric_total[1m])) or absent(up)")).toEqual(["no_such_metric_total", "up"]);
  });
});
