import zlib from "node:zlib";
import fc from "fast-check";
import type { RawRequest } from "./raw-http";

/** A JSON Schema node as zod-openapi writes them (the parts the generator reads). */
interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  additionalProperties?: Schema | boolean;
}

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  schema?: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

/** One documented operation: what the fuzz sends requests to. */
export interface Endpoint {
  method: string;
  /** OpenAPI syntax: /users/{id} */
  path: string;
  params: string[];
  query: Record<string, Schema>;
  body: Schema | undefined;
}

/** Every operation of a document, so a new route is fuzzed as soon as it is documented. */
export function endpointsOf(doc: OpenApi): Endpoint[] {
  const out: Endpoint[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const parameters = op.parameters ?? [];
      out.push({
        method: method.toUpperCase(),
        path,
        params: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        query: Object.fromEntries(parameters.filter((p) => p.in === "query").map((p) => [p.name, p.schema ?? {}])),
        body: op.requestBody?.content?.["application/json"]?.schema,
      });
    }
  }
  return out;
}

/** Values the world holds (a user, a template, ...), so that some requests get past "not found". */
export interface Known {
  ids: string[];
  byName: Record<string, string[]>;
}

/** A piece of JSON text inserted as is (a nesting too deep to build as objects). */
class RawJson {
  constructor(readonly text: string) {}
}

function serialize(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(serialize).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const deep = (depth: number, open: string, close: string, leaf = "1") => new RawJson(`${open.repeat(depth)}${leaf}${close.repeat(depth)}`);

/** Strings that have broken things: NUL, lone surrogates, huge, mustache that nests or includes, injection. */
const nastyString = fc.oneof(
  fc.constantFrom(
    "\u0000",
    "a\u0000b",
    "\ud800",
    "x\udfffy",
    "\ud83d",
    "💥🎉",
    "\u202eevil",
    "Ωmega ß",
    "",
    " ",
    "null",
    "%ff",
    "%C0%AE",
    "../../etc/passwd",
    "' OR 1=1 --",
    "__proto__",
    "constructor",
    "toString",
    "{{#v}}{{> x}}{{/v}}",
    "{{#v}}{{other}}{{/v}}",
    "{{",
    "{{{x}}",
    "{{#a}}",
    "\r\n\r\n",
    "2026-13-45T99:99:99Z",
    "+14155550123",
    "a@example.com",
    "http://127.0.0.1:9/x",
  ),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);

const nastyNumber = fc.constantFrom(0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 1e21, 123456789012);

/** Any hostile JSON value; `maxDepth` bounds what is built as objects (deep nests are raw text). */
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 2, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null, [], {}) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 200 }).map((d) => deep(d, '{"a":', "}")) },
);

/** Values too big to put everywhere: at most one per request body, near its top. */
const hugeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant("{{#a}}".repeat(8000) + "{{/a}}".repeat(8000)),
  fc.constant("x".repeat(70_000)),
  fc.constant(deep(100_000, "[", "]")),
  fc.integer({ min: 20, max: 2000 }).map((d) => deep(d, "[", "]")),
  fc.constant(Array.from({ length: 3000 }, (_, i) => i)),
);

function resolve(doc: OpenApi, schema: Schema): Schema {
  let s = schema;
  for (let i = 0; s.$ref && i < 10; i += 1) s = doc.components?.schemas?.[s.$ref.split("/").pop()!] ?? {};
  return s;
}

/** A value that mostly fits the schema, with hostile values mixed in at every level. */
function valueFor(doc: OpenApi, known: Known, schema: Schema, name: string, depth: number): fc.Arbitrary<unknown> {
  const s = resolve(doc, schema);
  const fitting = fittingValue(doc, known, s, name, depth);
  // Huge values are rare (each costs the server a few ms to parse and refuse) but every run has dozens.
  if (depth === 1) return fc.oneof({ weight: 300, arbitrary: fitting }, { weight: 60, arbitrary: nastyValue }, { weight: 1, arbitrary: hugeValue });
  return fc.oneof({ weight: 6, arbitrary: fitting }, { weight: 1, arbitrary: nastyValue });
}

function fittingValue(doc: OpenApi, known: Known, s: Schema, name: string, depth: number): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (union && union.length > 0) return fc.oneof(...union.map((u) => fittingValue(doc, known, resolve(doc, u), name, depth)));
  if (s.allOf && s.allOf.length > 0) return fittingValue(doc, known, resolve(doc, s.allOf[0]!), name, depth);
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== "null") ?? "null") : s.type;
  const names = known.byName[name];
  switch (type) {
    case "string":
      if (names) return fc.oneof(fc.constantFrom(...names), nastyString);
      if (s.format === "date-time") return fc.date({ min: new Date(Date.now() - 86_400_000), max: new Date(Date.now() + 40 * 86_400_000), noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === "email") return fc.constantFrom("a@example.com", "b.c@example.org");
      // Loopback only: a URL the fuzz writes (a user's webhook_url, a status webhook endpoint) must never lead anywhere else.
      if (s.format === "uri") return fc.constantFrom("http://127.0.0.1:9/hook", "https://127.0.0.1:9/x");
      return fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("welcome", "order.created", "{{name}}", "22:00", "Europe/Paris", "en"));
    case "integer":
    case "number":
      return fc.integer({ min: s.minimum ?? -10, max: Math.min(s.maximum ?? 2000, 1_000_000) });
    case "boolean":
      return fc.boolean();
    case "array":
      if (depth > 4) return fc.constant([]);
      return fc.array(valueFor(doc, known, s.items ?? {}, name, depth + 1), { maxLength: 4 });
    case "object": {
      if (depth > 4) return fc.constant({});
      const properties = s.properties ?? {};
      const fields = Object.fromEntries(Object.entries(properties).map(([key, sub]) => [key, valueFor(doc, known, sub, key, depth + 1)]));
      const record = fc.record(fields, { requiredKeys: (s.required ?? []).filter((k) => k in properties) });
      const extra = Object.keys(properties).length === 0 ? fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), nastyString), nastyValue, { maxKeys: 4 }) : fc.constant({});
      return fc.tuple(record, extra, fc.boolean()).map(([r, e, mix]) => (mix ? { ...e, ...r } : r));
    }
    default:
      return nastyValue;
  }
}

/** Percent-encoding of any string, lone surrogates too (as the WTF-8 bytes a careless client sends). */
function pct(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
    } else {
      out += encodeURIComponent(ch);
    }
  }
  return out;
}

/** A path segment: a known id, a plain one, or percent-encoding that is broken, huge, unicode or NUL. */
function segment(known: Known, name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(known.byName[name] ?? known.ids)) },
    { weight: 1, arbitrary: fc.constantFrom("%ff", "%C0%AE", "%00", "%E0%80%80", "%", "%zz", "%ed%a0%80", "..%2f..%2f", "%2e%2e", "a%00b", "%F0%9F%92%A5") },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map(pct) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }).map(pct) },
    { weight: 1, arbitrary: fc.integer({ min: 300, max: 9000 }).map((n) => "x".repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom("0190a0b0-0000-7000-8000-000000000000", "00000000-0000-0000-0000-000000000000", "not-a-uuid") },
  );
}

/** A query value, encoded or raw (broken percent-encoding, NUL, arrays by repetition). */
function queryValue(doc: OpenApi, known: Known, schema: Schema, name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fittingValue(doc, known, resolve(doc, schema), name, 0).map((v) => pct(typeof v === "string" ? v : (JSON.stringify(v) ?? ""))) },
    { weight: 1, arbitrary: nastyString.map(pct) },
    { weight: 1, arbitrary: fc.constantFrom("abc", "AAAAAAAAAAAAAAAAAAAAAA", "%ff", "%00", "%", "-1", "1e9", "501", "0", "true", "%ed%a0%80", "x".repeat(5000)) },
  );
}

const JSON_TYPE = "application/json";
const contentTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant(JSON_TYPE) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "application/json; charset=utf-16",
      "application/json; charset=bogus",
      "application/vnd.api+json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json, text/plain",
      "",
      "*/*",
      "application/",
      "none",
    ),
  },
);

type Encoding = "none" | "gzip" | "gzip-plain" | "deflate" | "deflate-plain" | "br" | "br-plain" | "identity" | "unknown" | "stacked" | "upper";
const encodings = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Encoding>("none") },
  { weight: 3, arbitrary: fc.constantFrom<Encoding>("gzip", "gzip-plain", "deflate", "deflate-plain", "br", "br-plain", "identity", "unknown", "stacked", "upper") },
);

const FAST = { level: 1 };
const FAST_BR = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } };

function encodeBody(body: Buffer, encoding: Encoding): { header?: string; body: Buffer } {
  switch (encoding) {
    case "gzip":
      return { header: "gzip", body: zlib.gzipSync(body, FAST) };
    case "gzip-plain":
      return { header: "gzip", body };
    case "deflate":
      return { header: "deflate", body: zlib.deflateSync(body, FAST) };
    case "deflate-plain":
      return { header: "deflate", body };
    case "br":
      return { header: "br", body: zlib.brotliCompressSync(body, FAST_BR) };
    case "br-plain":
      return { header: "br", body };
    case "identity":
      return { header: "identity", body };
    case "unknown":
      return { header: "x-squish", body };
    case "stacked":
      return { header: "gzip, gzip", body: zlib.gzipSync(zlib.gzipSync(body, FAST), FAST) };
    case "upper":
      return { header: "GZIP", body: zlib.gzipSync(body, FAST) };
    default:
      return { body };
  }
}

const framings = fc.oneof(
  { weight: 20, arbitrary: fc.constant<RawRequest["framing"]>("length") },
  { weight: 1, arbitrary: fc.constantFrom<RawRequest["framing"]>("chunked", "short", "long", "none") },
);

/** Header values a client may send (no CR/LF); some with bytes above ASCII. */
const headerValue = fc.oneof(
  fc.string({ unit: "grapheme-ascii", maxLength: 40 }),
  fc.constantFrom("x".repeat(4000), "ÿþ", "has spaces", "order-1", "\t"),
);

export interface FuzzCase {
  /** The operation, as the document names it. */
  route: string;
  request: RawRequest;
}

/** The arbitrary of one hostile request to one of the endpoints. */
export function fuzzCase(doc: OpenApi, endpoints: Endpoint[], known: Known, apiKey: string): fc.Arbitrary<FuzzCase> {
  const perEndpoint = endpoints.map((endpoint) => {
    const params = fc.tuple(...endpoint.params.map((p) => segment(known, p)));
    const documented = Object.entries(endpoint.query).map(([name, schema]) =>
      fc.option(queryValue(doc, known, schema, name).map((v) => `${name}=${v}`), { nil: undefined, freq: 2 }),
    );
    const query = fc.tuple(
      fc.tuple(...documented),
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...Object.keys(endpoint.query), "x"), fc.string({ maxLength: 5 }).map(pct)), queryValue(doc, known, {}, "x")), { maxLength: 2 }),
    );
    const hasBody = endpoint.body !== undefined || ["POST", "PUT", "PATCH"].includes(endpoint.method);
    const bodyText: fc.Arbitrary<Buffer | undefined> = hasBody
      ? fc.oneof(
          { weight: 120, arbitrary: valueFor(doc, known, endpoint.body ?? {}, "(body)", 0).map((v) => Buffer.from(serialize(v), "utf8")) },
          { weight: 10, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v), "utf8")) },
          { weight: 10, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
          { weight: 10, arbitrary: fc.constantFrom("{", '{"a":', "[1,2", "\u0000", '{"a":"\\u0000"}', '{"a":"\\ud800"}', "null", "[]", '"x"', "1").map((t) => Buffer.from(t)) },
          { weight: 1, arbitrary: fc.constantFrom(deep(100_000, "[", "]"), deep(30_000, '{"a":', "}"), deep(5000, "[", "]")).map((r) => Buffer.from(r.text)) },
          { weight: 10, arbitrary: fc.constant(undefined) },
        )
      : fc.option(fc.constantFrom(Buffer.from("{}"), Buffer.from("garbage")), { nil: undefined, freq: 6 });
    const method = fc.oneof({ weight: 15, arbitrary: fc.constant(endpoint.method) }, { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS") });
    const auth = fc.oneof(
      { weight: 20, arbitrary: fc.constant<[string, string][]>([["X-API-Key", apiKey]]) },
      { weight: 1, arbitrary: fc.constant<[string, string][]>([["Authorization", `Bearer ${apiKey}`]]) },
      { weight: 1, arbitrary: fc.constantFrom<[string, string][]>([], [["X-API-Key", "wrong"]], [["Authorization", "Bearer"]], [["X-API-Key", "x".repeat(5000)]]) },
    );
    const extra = fc.tuple(
      fc.array(fc.tuple(fc.constantFrom("X-Correlation-ID", "Idempotency-Key", "Accept", "Accept-Encoding", "Range", "If-None-Match", "X-Forwarded-For"), headerValue), { maxLength: 2 }),
      fc.oneof(
        { weight: 30, arbitrary: fc.constant<[string, string][]>([]) },
        { weight: 1, arbitrary: fc.constantFrom<[string, string][]>([["Expect", "100-continue"]], [["Expect", "bogus"]]) },
      ),
    ).map(([some, expect]) => [...some, ...expect]);
    return fc
      .record({ method, params, query, body: bodyText, contentType: contentTypes, encoding: encodings, framing: framings, auth, extra })
      .map(({ method: m, params: values, query: [documentedPairs, extraPairs], body, contentType, encoding, framing, auth: authHeaders, extra: extraHeaders }): FuzzCase => {
        let path = endpoint.path;
        endpoint.params.forEach((name, i) => (path = path.replace(`{${name}}`, values[i]!)));
        const pairs = [...documentedPairs.filter((p): p is string => p !== undefined), ...extraPairs.map(([k, v]) => `${k}=${v}`)];
        const target = pairs.length > 0 ? `${path}?${pairs.join("&")}` : path;
        const headers: [string, string][] = [...authHeaders, ...extraHeaders];
        let payload = body;
        if (payload !== undefined) {
          if (contentType !== "none") headers.push(["Content-Type", contentType]);
          const encoded = encodeBody(payload, encoding);
          if (encoded.header) headers.push(["Content-Encoding", encoded.header]);
          payload = encoded.body;
        }
        return { route: `${endpoint.method} ${endpoint.path}`, request: { method: m, target, headers, ...(payload ? { body: payload } : {}), framing: payload ? framing : "length" } };
      });
  });
  return fc.oneof(...perEndpoint);
}
