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

/**
 * A worker killed with sends on the wire: 4 sends held open at a hung SMTP server (its 4
 * connections), 12 more waiting for a connection. The lease is an hour, so only the heartbeat can
 * make the next worker decide the 4 in time; the 12 were never claimed and simply go out.
 */
function killedMidBatch(name: string, policy: Record<string, string>, expectation: (finals: { status: string; code: string | null }[], smtp: FakeSmtp) => void) {
  describe(name, () => {
    let env: TestEnv;
    let smtp: FakeSmtp;
    let app: Express;
    let child: ChildProcess | undefined;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ env, smtp, app, cleanup } = await emailWorld(
        { RETRY_BASE_DELAY_MS: "100", DELIVERY_LEASE: "1h", WORKER_HEARTBEAT: "300ms", WORKER_DEAD_AFTER: "2s", ...policy },
        { worker: false },
      ));
    });

    afterAll(async () => {
      child?.kill("SIGKILL");
      await cleanup();
    });

    it("loses nothing: the sends that were waiting go out once, the ones on the wire are decided by the channel's policy", async () => {
      smtp.fail({ mode: "hang" });
      const users = await Promise.all(Array.from({ length: 16 }, () => createUser(app)));
      const requests = await Promise.all(users.map((u) => sendEmail(app, u.id)));
      child = spawnWorker(env, smtp.port);
      await waitFor(() => smtp.attempts.length >= 4, { timeoutMs: 30_000, what: "four sends on the wire" });
      // A claim is the hand-over to the provider: exactly the four on the wire are claimed.
      await waitFor(async () => (await env.db.prisma.delivery.count({ where: { status: "processing" } })) === 4, { what: "four claims" });
      child.kill("SIGKILL");
      await new Promise((resolve) => child!.once("exit", resolve));
      expect(await env.db.prisma.delivery.count({ where: { status: "processing" } })).toBe(4);
      smtp.clearFaults();

      await startEmailWorker(env, smtp.port);
      const finals = await waitFor(
        async () => {
          const all = await Promise.all(requests.map((r) => statusOf(app, r.body.data.request_id)));
          return all.every((s) => ["sent", "dead_lettered"].includes(s.deliveries[0]!.status)) ? all : undefined;
        },
        { timeoutMs: 30_000, what: "every delivery to finish (well before the hour-long lease)" },
      );
      expectation(
        finals.map((s) => ({ status: s.deliveries[0]!.status, code: s.deliveries[0]!.last_error_code })),
        smtp,
      );
      // A process started from source under a busy machine takes a while: the bound is for a hang.
    }, 180_000);
  });
}

killedMidBatch("an email worker killed mid-batch (email: resend what was on the wire)", {}, (finals, smtp) => {
  expect(finals.every((f) => f.status === "sent")).toBe(true);
  // The hung server never accepted the four it held, so each mail arrived exactly once.
  expect(smtp.received).toHaveLength(16);
  expect(new Set(smtp.received.map((m) => m.to)).size).toBe(16);
});

killedMidBatch("an email worker killed mid-batch, with INTERRUPTED_RESEND_CHANNELS empty (dead-letter what was on the wire)", { INTERRUPTED_RESEND_CHANNELS: "" }, (finals, smtp) => {
  const interrupted = finals.filter((f) => f.status === "dead_lettered");
  expect(interrupted).toHaveLength(4);
  for (const f of interrupted) expect(f.code).toBe("delivery_interrupted");
  expect(finals.filter((f) => f.status === "sent")).toHaveLength(12);
  expect(smtp.received).toHaveLength(12);
});
