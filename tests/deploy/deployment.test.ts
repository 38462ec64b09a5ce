import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");
const validate = (...dirs: string[]) => spawnSync(process.execPath, [path.join(ROOT, "scripts", "k8s-validate.mjs"), ...dirs], { cwd: ROOT, encoding: "utf8" });
const APPS = ["api-gateway", "user-service", "template-service", "email-worker", "push-worker", "sms-worker", "webhook-worker"];

describe("the Kubernetes manifests (kustomize base and production overlay)", () => {
  it("build and validate against the Kubernetes schemas and the project's rules", () => {
    const run = validate("deploy/k8s/base", "deploy/k8s/overlays/production");
    expect(run.stderr).toBe("");
    const summary = JSON.parse(run.stdout) as Record<string, { objects: string[]; namespace: string[]; problems: string[] }>;
    expect(summary["deploy/k8s/base"]!.problems).toEqual([]);
    expect(summary["deploy/k8s/overlays/production"]!.problems).toEqual([]);
    expect(run.status).toBe(0);
    const objects = summary["deploy/k8s/overlays/production"]!.objects;
    for (const app of APPS) {
      expect(objects).toContain(`Deployment/${app}`);
      expect(objects).toContain(`PodDisruptionBudget/${app}`);
    }
    for (const worker of APPS.filter((a) => a.endsWith("-worker"))) expect(objects).toContain(`HorizontalPodAutoscaler/${worker}`);
    expect(objects).toEqual(expect.arrayContaining(["ConfigMap/herald-config", "Secret/herald-secrets", "Job/herald-setup", "Namespace/herald", "Service/api-gateway"]));
    expect(summary["deploy/k8s/overlays/production"]!.namespace).toEqual(["herald"]);
  });

  it("fails on a manifest the schema or the rules refuse", () => {
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), "herald-k8s-"));
    try {
      fs.cpSync(path.join(ROOT, "deploy", "k8s"), broken, { recursive: true });
      const file = path.join(broken, "base", "email-worker.yaml");
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("replicas: 1", "replicas: one").replace("path: /health/ready", "path: /ready").replace("name: queue_messages", "name: cpu_seconds"));
      const run = validate(path.join(broken, "base"));
      expect(run.status).toBe(1);
      const problems = (JSON.parse(run.stdout) as Record<string, { problems: string[] }>)[path.join(broken, "base")]!.problems;
      expect(problems).toEqual(
        expect.arrayContaining([
          "Deployment/email-worker: data/spec/replicas must be integer",
          "Deployment/email-worker: readinessProbe must GET /health/ready",
          'Deployment/email-worker: no HorizontalPodAutoscaler on queue_messages{state="ready"}',
        ]),
      );
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe("docker-compose.yml", () => {
  const compose = parse(fs.readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
    services: Record<string, { command?: string[]; healthcheck?: { test: string[] }; restart?: string; depends_on?: Record<string, { condition: string }>; volumes?: string[] }>;
  };

  it("runs the migrations once, then every app with a health check, a restart policy and its dependencies' conditions", () => {
    const { services } = compose;
    expect(services.setup!.command).toEqual(["node", "apps/launcher/dist/main.js", "--setup-only"]);
    expect(services.setup!.depends_on).toEqual({ postgres: { condition: "service_healthy" }, redis: { condition: "service_healthy" }, rabbitmq: { condition: "service_healthy" } });
    for (const app of [...APPS, "dev-inbox"]) {
      const service = services[app]!;
      expect([app, service.restart]).toEqual([app, "unless-stopped"]);
      expect(service.depends_on?.setup).toEqual({ condition: "service_completed_successfully" });
      expect(service.healthcheck?.test.join(" ")).toMatch(/\/health\/ready/);
    }
    expect(services["api-gateway"]!.depends_on).toMatchObject({ "user-service": { condition: "service_healthy" }, "template-service": { condition: "service_healthy" } });
  });

  it("wires Prometheus (scrape config and alert rules) and Grafana (datasource and dashboard) from deploy/", () => {
    const { services } = compose;
    for (const name of ["prometheus", "grafana"]) {
      for (const volume of services[name]!.volumes ?? []) expect([volume, fs.existsSync(path.join(ROOT, volume.split(":")[0]!))]).toEqual([volume, true]);
    }
    const prometheus = parse(fs.readFileSync(path.join(ROOT, "deploy", "prometheus", "prometheus.yml"), "utf8")) as { rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    expect(prometheus.rule_files).toEqual(["/etc/prometheus/alerts.yml"]);
    const targets = prometheus.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    for (const app of [...APPS, "dev-inbox"]) expect(targets.some((t) => t.startsWith(`${app}:`))).toBe(true);
    // Every scrape target is a compose service with the port its app listens on.
    for (const target of targets) expect(Object.keys(services)).toContain(target.split(":")[0]);
  });
});

describe("the Dockerfile", () => {
  /** The Dockerfile's COPY sources and RUN commands, in order. */
  function steps(): { copies: { from: string[]; to: string }[]; runs: string[] } {
    const lines = fs.readFileSync(path.join(ROOT, "Dockerfile"), "utf8").replace(/\\\n/g, " ").split("\n");
    const copies: { from: string[]; to: string }[] = [];
    const runs: string[] = [];
    for (const line of lines) {
      const [instruction, ...rest] = line.trim().split(/\s+/);
      if (instruction === "COPY") copies.push({ from: rest.slice(0, -1), to: rest[rest.length - 1]! });
      if (instruction === "RUN") runs.push(line.trim().slice(4));
    }
    return { copies, runs };
  }

  it("installs and builds from exactly the files it copies (in a scratch folder: no Docker engine runs here)", () => {
    const { copies, runs } = steps();
    const ignored = fs.readFileSync(path.join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
    const skip = (rel: string) => ignored.some((pattern) => rel.split("/").includes(pattern.replace(/^\*\*\//, "")) || rel === pattern || rel.startsWith(`${pattern}/`));
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "herald-image-"));
    try {
      for (const { from, to } of copies) {
        for (const source of from) {
          const target = to.endsWith("/") || from.length > 1 ? path.join(scratch, to, path.basename(source)) : path.join(scratch, to === "./" ? source : to);
          fs.cpSync(path.join(ROOT, source), target, { recursive: true, filter: (src) => !skip(path.relative(ROOT, src)) });
        }
      }
      // `npm install -g npm@11` would replace this machine's npm; it already is npm 11.
      const commands = runs.map((r) => r.replace(/npm install -g npm@11\s*&&\s*/, ""));
      expect(execFileSync("npm", ["--version"], { encoding: "utf8" })).toMatch(/^11\./);
      for (const command of commands) execFileSync("bash", ["-c", command], { cwd: scratch, stdio: "pipe", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", CI: "1" } });
      for (const app of [...APPS, "dev-inbox", "launcher"]) expect([app, fs.existsSync(path.join(scratch, "apps", app, "dist", "main.js"))]).toEqual([app, true]);
      expect(fs.readFileSync(path.join(scratch, "apps", "console", "dist", "index.html"), "utf8")).toContain("/console/assets/");
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }, 900_000);
});
