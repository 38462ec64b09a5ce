import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { Express } from "express";
import { FakeSmtp, waitFor, type TestEnv } from "@herald/testkit";
import { createUser, sendEmail, startEmailWorker, statusOf, emailWorld } from "../support/system";

const ROOT = path.resolve(__dirname, "..", "..");

/** The real email-worker process, run from source. */
function spawnWorker(env: TestEnv, smtpPort: number): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "apps/email-worker/src/main.ts")], {
    cwd: ROOT,
    env: { ...env.vars, PATH: process.env.PATH ?? "", SMTP_HOST: "127.0.0.1", SMTP_PORT: String(smtpPort), SMTP_MAX_CONNECTIONS: "4", EMAIL_WORKER_PORT: "0" },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

describe("an email worker killed mid-batch", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;
  let child: ChildProcess | undefined;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ env, smtp, app, cleanup } = await emailWorld({ RETRY_BASE_DELAY_MS: "100", DELIVERY_LEASE: "1s" }, { worker: false }));
  });

  afterAll(async () => {
    child?.kill("SIGKILL");
    await cleanup();
  });

  it("loses nothing and sends nothing twice: unclaimed mail goes out once, the interrupted attempts are dead-lettered", async () => {
    smtp.fail({ mode: "hang" });
    const users = await Promise.all(Array.from({ length: 16 }, () => createUser(app)));
    const requests = await Promise.all(users.map((u) => sendEmail(app, u.id)));
    child = spawnWorker(env, smtp.port);
    // The worker holds 4 sends open at the SMTP server (its connection pool), 4 more claimed behind
    // them (twice the connections), and the rest unclaimed.
    await waitFor(() => smtp.attempts.length >= 4, { timeoutMs: 20_000, what: "four sends in flight" });
    await waitFor(async () => (await env.db.prisma.delivery.count({ where: { status: "processing" } })) === 8, { what: "eight claims" });
    child.kill("SIGKILL");
    await new Promise((resolve) => child!.once("exit", resolve));
    smtp.clearFaults();

    await startEmailWorker(env, smtp.port);
    const finals = await waitFor(async () => {
      const all = await Promise.all(requests.map((r) => statusOf(app, r.body.data.request_id)));
      return all.every((s) => ["sent", "dead_lettered"].includes(s.deliveries[0]!.status)) ? all : undefined;
    }, { timeoutMs: 20_000, what: "every delivery to finish" });

    const sent = finals.filter((s) => s.deliveries[0]!.status === "sent");
    const interrupted = finals.filter((s) => s.deliveries[0]!.status === "dead_lettered");
    expect(interrupted).toHaveLength(8);
    for (const s of interrupted) expect(s.deliveries[0]!.last_error_code).toBe("delivery_interrupted");
    expect(sent).toHaveLength(8);
    // Exactly one mail per sent delivery, none for the interrupted ones (the server never accepted them).
    expect(smtp.received).toHaveLength(8);
    expect(new Set(smtp.received.map((m) => m.to)).size).toBe(8);
  });
});
