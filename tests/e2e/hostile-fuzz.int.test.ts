import request from "supertest";
import fc from "fast-check";
import { processEnv } from "@herald/config";
import { listen } from "@herald/http";
import { TEST_API_KEY, createTestEnv, type TestEnv } from "@herald/testkit";
import { AUTH, createUser, createWelcomeTemplate, startApi } from "../support/system";
import { endpointsOf, fuzzCase, type Endpoint, type FuzzCase, type Known, type OpenApi } from "../support/fuzz";
import { RawClient, type RawAnswer } from "../support/raw-http";

/**
 * Hostile input against every documented endpoint of the gateway (its own routes and the proxied
 * /users and /templates): generated bodies, headers (content types, encodings, framing that lies),
 * path parameters and query strings, sent byte for byte on their own connections to the real
 * system on this test's PostgreSQL, Redis and RabbitMQ. Every answer must be in time, below 500,
 * and in the JSON envelope. FUZZ_RUNS and FUZZ_SEED repeat a run.
 */
const env0 = processEnv();
const RUNS = Number(env0.FUZZ_RUNS ?? 10_000);
const SEED = Number(env0.FUZZ_SEED ?? Date.now() % 2 ** 31);
/** Requests in flight at once. */
const CONCURRENCY = 24;
/**
 * Only a hang takes this long: a body that never completes is cut after HTTP_REQUEST_TIMEOUT (1 s
 * here), everything else answers in milliseconds; this bound is a limit, never a window.
 */
const HANG_MS = 30_000;

/** Why an answer breaks the contract, or undefined when it keeps it. */
function problemOf(answer: RawAnswer): string | undefined {
  if (answer.kind === "hang") return `no answer within ${HANG_MS} ms (hang)`;
  if (answer.kind === "no_answer") return `no answer: ${answer.error}`;
  if (answer.status >= 500) return `status ${answer.status}: ${answer.body.slice(0, 300)}`;
  if (answer.status === 204) return answer.body.length === 0 ? undefined : "204 with a body";
  if (!/^application\/json/.test(answer.headers["content-type"] ?? "")) return `status ${answer.status} is not JSON (${answer.headers["content-type"] ?? "no content-type"}): ${answer.body.slice(0, 200)}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    return `status ${answer.status}: the body does not parse as JSON`;
  }
  for (const key of ["success", "data", "error", "message", "meta"]) if (!(key in body)) return `status ${answer.status}: the envelope has no ${key}`;
  if (answer.status >= 400) {
    const code = (body.error as { code?: unknown } | null)?.code;
    if (body.success !== false || typeof code !== "string" || !/^[a-z][a-z0-9_]*$/.test(code)) return `status ${answer.status}: error is not { code: snake_case }: ${answer.body.slice(0, 200)}`;
  }
  return undefined;
}

function describeCase(c: FuzzCase): string {
  const body = c.request.body;
  const shown = body === undefined ? "(none)" : body.length > 200 ? `${JSON.stringify(body.subarray(0, 200).toString("latin1"))}… (${body.length} bytes)` : JSON.stringify(body.toString("latin1"));
  const target = c.request.target.length > 200 ? `${c.request.target.slice(0, 200)}… (${c.request.target.length} chars)` : c.request.target;
  const headers = c.request.headers.map(([n, v]) => `${n}: ${v.length > 60 ? `${v.slice(0, 60)}…` : v}`).join("; ");
  return `${c.request.method} ${target} [${c.request.framing}] {${headers}} body ${shown}`;
}

describe("hostile input: never a 5xx, never a hang, always the envelope", () => {
  let env: TestEnv;
  let port: number;
  let doc: OpenApi;
  let endpoints: Endpoint[];
  let known: Known;

  beforeAll(async () => {
    // No status webhook is ever posted here (URLs the fuzz registers are not contacted), and no
    // worker runs: hostile input stays on this machine.
    env = await createTestEnv({ HTTP_REQUEST_TIMEOUT: "1s", RATE_LIMIT_PER_USER: "1000000", STATUS_WEBHOOK_INTERVAL: "24h", WEBHOOK_ALLOW_PRIVATE: "false" });
    const { app, runtime } = await startApi(env);
    const http = await listen(app, 0, "127.0.0.1");
    runtime.releasers.add("http", () => http.close());
    port = http.port;

    await createWelcomeTemplate(app, "fuzz_tpl");
    const user = await createUser(app, { external_id: "fuzz-user", phone: "+14155550123", webhook_url: "http://127.0.0.1:9/hook" });
    const sent = await request(app).post("/notifications/send").set(AUTH).send({ user_id: user.id, channel: "email", template_id: "fuzz_tpl", variables: { name: "Ada" } });
    await request(app).post("/routing-rules").set(AUTH).send({ type: "order.created", template_id: "fuzz_tpl", channels: ["email"] });
    await request(app).post(`/users/${user.id}/devices`).set(AUTH).send({ token: "fuzz-token", platform: "web" });
    const requestId = sent.body.data.request_id as string;
    known = {
      ids: [user.id, "fuzz-user", requestId, "fuzz_tpl"],
      byName: {
        id: [user.id, "fuzz-user"],
        user_id: [user.id, "fuzz-user"],
        request_id: [requestId],
        template_id: ["fuzz_tpl"],
        type: ["order.created"],
        token: ["fuzz-token"],
      },
    };
    doc = (await request(app).get("/openapi.json").set(AUTH)).body as OpenApi;
    endpoints = endpointsOf(doc);
  });

  afterAll(() => env?.cleanup());

  it(`answers ${RUNS} generated requests across every documented endpoint within the contract`, async () => {
    // The document lists the gateway's routes and the two services' (a test checks it lists every registered route).
    const routes = new Set(endpoints.map((e) => `${e.method} ${e.path}`));
    for (const route of ["POST /notifications/send", "GET /notifications/{request_id}", "POST /users", "DELETE /users/{id}/devices/{token}", "POST /templates", "GET /routing-rules", "POST /dlq/replay", "GET /sandbox/messages"]) {
      expect(routes).toContain(route);
    }

    const generating = Date.now();
    const cases = fc.sample(fuzzCase(doc, endpoints, known, TEST_API_KEY), { numRuns: RUNS, seed: SEED });
    const generated = ((Date.now() - generating) / 1000).toFixed(1);
    const histogram = new Map<string, number>();
    const perRoute = new Map<string, number>();
    const failures: { case: FuzzCase; problem: string }[] = [];
    const started = Date.now();
    const cpu = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        const client = new RawClient(port, HANG_MS);
        while (next < cases.length) {
          const c = cases[next++]!;
          const answer = await client.send(c.request);
          const key = answer.kind === "answer" ? String(answer.status) : answer.kind;
          histogram.set(key, (histogram.get(key) ?? 0) + 1);
          perRoute.set(c.route, (perRoute.get(c.route) ?? 0) + 1);
          const problem = problemOf(answer);
          if (problem) failures.push({ case: c, problem });
        }
        client.close();
      }),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const used = process.cpuUsage(cpu);
    const cpuSeconds = ((used.user + used.system) / 1e6).toFixed(1);
    const statuses = [...histogram.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}: ${n}`).join(", ");
    console.log(
      `hostile-input fuzz: ${cases.length} inputs over ${perRoute.size} of ${endpoints.length} endpoints in ${seconds} s (${cpuSeconds} s of CPU in this process; generated in ${generated} s, seed ${SEED}); statuses { ${statuses} }; ${failures.length} broke the contract`,
    );
    expect(perRoute.size).toBe(endpoints.length);
    const shown = failures.slice(0, 15).map((f) => `${f.problem}\n    ${describeCase(f.case)}`);
    expect(shown).toEqual([]);
  }, 300_000);
});
