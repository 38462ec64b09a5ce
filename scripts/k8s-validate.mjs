// Validates the Kubernetes manifests of deploy/k8s without a cluster or kubeconform: builds each
// kustomization (resources, namespace, labels, images, JSON 6902 patches: the subset used here),
// checks every object against the Kubernetes OpenAPI schemas (kubernetes-models, ajv), then the
// rules of this project: probes on /health and /health/ready, requests and limits, a PDB per
// Deployment, an HPA on queue depth per worker, config and secrets from herald-config/herald-secrets.
// Usage: node scripts/k8s-validate.mjs <kustomization dir>...   Prints a JSON summary; exit 1 on any problem.
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments, parse } from "yaml";

const NAMESPACED = new Set(["Deployment", "Service", "ConfigMap", "Secret", "Job", "PodDisruptionBudget", "HorizontalPodAutoscaler"]);

function build(dir) {
  const k = parse(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
  if (k.kind !== "Kustomization") throw new Error(`${dir}: not a Kustomization`);
  let objects = [];
  for (const resource of k.resources ?? []) {
    const full = path.join(dir, resource);
    if (fs.statSync(full).isDirectory()) objects.push(...build(full));
    else objects.push(...parseAllDocuments(fs.readFileSync(full, "utf8")).map((d) => d.toJS()).filter(Boolean).map((o) => ({ ...o, __file: full })));
  }
  for (const { pairs } of k.labels ?? []) for (const o of objects) o.metadata = { ...o.metadata, labels: { ...o.metadata?.labels, ...pairs } };
  if (k.namespace) for (const o of objects) if (NAMESPACED.has(o.kind)) o.metadata.namespace = k.namespace;
  for (const image of k.images ?? []) {
    for (const o of objects) {
      for (const c of o.spec?.template?.spec?.containers ?? []) {
        if (c.image === image.name || c.image.startsWith(`${image.name}:`) || c.image.split(":")[0] === image.newName) c.image = `${image.newName ?? image.name}:${image.newTag ?? "latest"}`;
      }
    }
  }
  for (const { target, patch } of k.patches ?? []) {
    const name = new RegExp(`^(?:${target.name})$`);
    const hits = objects.filter((o) => o.kind === target.kind && name.test(o.metadata.name));
    if (hits.length === 0) throw new Error(`${dir}: patch target ${target.kind}/${target.name} matches nothing`);
    for (const o of hits) for (const op of parse(patch)) applyOp(o, op, `${dir}: ${target.kind}/${o.metadata.name}`);
  }
  return objects;
}

function applyOp(object, { op, path: pointer, value }, where) {
  const keys = pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const last = keys.pop();
  let node = object;
  for (const key of keys) {
    if (node[key] === undefined) throw new Error(`${where}: ${op} ${pointer}: no ${key}`);
    node = node[key];
  }
  if (op === "remove") delete node[last];
  else if (op === "replace" && node[last] === undefined) throw new Error(`${where}: replace ${pointer}: nothing there`);
  else if (op === "add" && Array.isArray(node) && last === "-") node.push(value);
  else if (op === "add" || op === "replace") node[last] = value;
  else throw new Error(`${where}: unsupported op ${op}`);
}

async function schemaProblems(o) {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : [undefined, o.apiVersion];
  const modulePath = `kubernetes-models/${group ? `${group}/` : ""}${version}/${o.kind}`;
  let Model;
  try {
    Model = (await import(modulePath))[o.kind];
  } catch {
    return [`no schema for ${o.apiVersion} ${o.kind}`];
  }
  const { __file, ...plain } = o;
  try {
    new Model(plain).validate();
    return [];
  } catch (error) {
    return [String(error.message ?? error)];
  }
}

function projectProblems(objects) {
  const problems = [];
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const selects = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  const configMaps = new Set(byKind("ConfigMap").map((o) => o.metadata.name));
  const secrets = new Set(byKind("Secret").map((o) => o.metadata.name));
  for (const d of [...byKind("Deployment"), ...byKind("Job")]) {
    const name = `${d.kind}/${d.metadata.name}`;
    const spec = d.spec.template.spec;
    for (const c of spec.containers) {
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.cpu || !c.resources?.limits?.memory) problems.push(`${name}: ${c.name} needs cpu and memory requests and limits`);
      for (const ref of c.envFrom ?? []) {
        if (ref.configMapRef && !configMaps.has(ref.configMapRef.name)) problems.push(`${name}: no ConfigMap ${ref.configMapRef.name}`);
        if (ref.secretRef && !secrets.has(ref.secretRef.name)) problems.push(`${name}: no Secret ${ref.secretRef.name}`);
      }
      if (!(c.envFrom ?? []).some((r) => r.configMapRef) || !(c.envFrom ?? []).some((r) => r.secretRef)) problems.push(`${name}: config must come from a ConfigMap and secrets from a Secret`);
      if (d.kind !== "Deployment") continue;
      if (c.livenessProbe?.httpGet?.path !== "/health") problems.push(`${name}: livenessProbe must GET /health`);
      if (c.readinessProbe?.httpGet?.path !== "/health/ready") problems.push(`${name}: readinessProbe must GET /health/ready`);
    }
    if (d.kind !== "Deployment") continue;
    if (!selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels)) problems.push(`${name}: its selector does not select its own pods`);
    const labels = d.spec.template.metadata.labels;
    if (!byKind("PodDisruptionBudget").some((p) => selects(p.spec.selector.matchLabels, labels))) problems.push(`${name}: no PodDisruptionBudget`);
    if (d.metadata.name.endsWith("-worker")) {
      const hpa = byKind("HorizontalPodAutoscaler").find((h) => h.spec.scaleTargetRef.name === d.metadata.name);
      const onQueue = hpa?.spec.metrics?.some((m) => m.type === "External" && m.external.metric.name === "queue_messages" && m.external.metric.selector?.matchLabels?.state === "ready");
      if (!onQueue) problems.push(`${name}: no HorizontalPodAutoscaler on queue_messages{state="ready"}`);
    }
  }
  for (const s of byKind("Service")) {
    if (!byKind("Deployment").some((d) => selects(s.spec.selector, d.spec.template.metadata.labels))) problems.push(`Service/${s.metadata.name}: selects no Deployment's pods`);
  }
  for (const h of byKind("HorizontalPodAutoscaler")) {
    if (!byKind("Deployment").some((d) => d.metadata.name === h.spec.scaleTargetRef.name)) problems.push(`HorizontalPodAutoscaler/${h.metadata.name}: scales no Deployment`);
    if (h.spec.minReplicas > h.spec.maxReplicas) problems.push(`HorizontalPodAutoscaler/${h.metadata.name}: minReplicas > maxReplicas`);
  }
  const seen = new Set();
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    if (seen.has(id)) problems.push(`${id}: defined twice`);
    seen.add(id);
  }
  return problems;
}

const summary = {};
let failed = false;
for (const dir of process.argv.slice(2)) {
  const problems = [];
  let objects = [];
  try {
    objects = build(dir);
  } catch (error) {
    problems.push(String(error.message ?? error));
  }
  for (const o of objects) for (const p of await schemaProblems(o)) problems.push(`${o.kind}/${o.metadata?.name}: ${p}`);
  problems.push(...projectProblems(objects));
  summary[dir] = { objects: objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), namespace: [...new Set(objects.map((o) => o.metadata.namespace).filter(Boolean))], problems };
  if (problems.length > 0) failed = true;
}
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exit(failed ? 1 : 0);
