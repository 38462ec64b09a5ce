/** The parts of an OpenAPI document that merging touches. */
export interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown> | undefined>;
  tags?: { name: string }[];
  [extension: string]: unknown;
}

export interface OpenApiSource {
  /** A name for the info text ("user-service"). */
  name: string;
  /** Where its /openapi.json is. */
  url: string;
}

export interface MergeOptions {
  title: string;
  /** How long a fetched document is reused. */
  ttlMs?: number;
  /** How long to wait for a service's document. */
  timeoutMs?: number;
}

interface Fetched {
  doc: OpenApiDoc | undefined;
  error: string | undefined;
  at: number;
}

/** Merges documents: paths, components and tags of each, the first one's info and security. */
export function mergeOpenApi(base: OpenApiDoc, others: OpenApiDoc[]): OpenApiDoc {
  const merged: OpenApiDoc = { ...base, paths: { ...base.paths }, components: { ...base.components } };
  const tags = new Map((base.tags ?? []).map((t) => [t.name, t]));
  for (const doc of others) {
    for (const [path, item] of Object.entries(doc.paths ?? {})) merged.paths![path] = { ...merged.paths![path], ...item };
    for (const [section, entries] of Object.entries(doc.components ?? {})) {
      merged.components![section] = { ...entries, ...merged.components![section] };
    }
    for (const tag of doc.tags ?? []) if (!tags.has(tag.name)) tags.set(tag.name, tag);
  }
  if (tags.size > 0) merged.tags = [...tags.values()];
  return merged;
}

/**
 * The gateway's /openapi.json: its own routes plus the documents of the services it proxies,
 * fetched from their /openapi.json and reused for `ttlMs`. A service that does not answer is left
 * out, and the document says so (in info.description and `x-herald-unavailable`), using its last
 * good document if there was one.
 */
export class OpenApiAggregator {
  private readonly fetched = new Map<string, Fetched>();
  private readonly ttlMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly sources: OpenApiSource[],
    private readonly options: MergeOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  async document(own: OpenApiDoc): Promise<OpenApiDoc> {
    const results = await Promise.all(this.sources.map((source) => this.load(source)));
    const docs = results.map((r) => r.doc).filter((d): d is OpenApiDoc => d !== undefined);
    const unavailable = this.sources.flatMap((source, i) => (results[i]!.error ? [{ service: source.name, url: source.url, error: results[i]!.error }] : []));
    const merged = mergeOpenApi(own, docs);
    const parts = [`One document for every route reachable on this port (the gateway and the services it proxies: ${this.sources.map((s) => s.name).join(", ")}).`];
    if (unavailable.length > 0) {
      parts.push(`Not answering just now, so their routes may be missing or stale: ${unavailable.map((u) => `${u.service} (${u.error})`).join("; ")}.`);
    }
    return {
      ...merged,
      info: { ...merged.info, title: this.options.title, description: parts.join(" ") },
      ...(unavailable.length > 0 ? { "x-herald-unavailable": unavailable } : {}),
    };
  }

  private async load(source: OpenApiSource): Promise<Fetched> {
    const previous = this.fetched.get(source.url);
    if (previous && Date.now() - previous.at < (previous.error ? Math.min(this.ttlMs, 5000) : this.ttlMs)) return previous;
    let result: Fetched;
    try {
      const res = await fetch(source.url, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      result = { doc: (await res.json()) as OpenApiDoc, error: undefined, at: Date.now() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Keep serving the last good document, marked as possibly stale.
      result = { doc: previous?.doc, error: message, at: Date.now() };
    }
    this.fetched.set(source.url, result);
    return result;
  }
}
