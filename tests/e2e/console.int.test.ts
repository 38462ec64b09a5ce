import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { listen } from "@herald/http";
import { DevInbox } from "@herald/providers";
import { CHROMIUM, CHROMIUM_ARGS, TEST_API_KEY, createTestEnv, freshProfile, waitFor, type TestEnv } from "@herald/testkit";
import { startSmsWorker } from "../support/channels";
import { createMultiChannelTemplate } from "../support/gateway";
import { AUTH, createUser, createWelcomeTemplate, startApi, startEmailWorker } from "../support/system";

/** What page.evaluate uses of the page's globals (this file is compiled without the DOM's types). */
type BrowserGlobals = { sessionStorage: { getItem(k: string): string | null } };
const VIEWER_KEY = "viewer-key-0123456789";
/** Screenshots of the run, for a person to look at: outside the repository. */
const SHOTS = path.join(os.tmpdir(), "herald-console-e2e");

/**
 * The operator console in a real browser (Debian's chromium driven by playwright-core) against a
 * real gateway, user and template services, email worker with the dev inbox, and SMS worker with
 * the sandbox provider: everything an operator does goes through the page and the public API.
 */
describe("the console in a browser", () => {
  let env: TestEnv;
  let base: string;
  let app: Parameters<typeof request>[0];
  let context: BrowserContext;
  let profile: string;
  let user: { id: string; email: string };

  beforeAll(async () => {
    env = await createTestEnv({ API_KEYS: `${TEST_API_KEY},${VIEWER_KEY}:read`, RETRY_BASE_DELAY_MS: "100", MAX_RETRY_ATTEMPTS: "1" });
    const inbox = new DevInbox(env.db, { port: 0, host: "127.0.0.1" });
    const smtpPort = await inbox.start();
    const api = await startApi(env);
    app = api.app;
    api.runtime.releasers.add("dev inbox", () => inbox.close());
    const http = await listen(api.app, 0, "127.0.0.1");
    api.runtime.releasers.add("http", () => http.close());
    base = `http://127.0.0.1:${http.port}`;
    await startEmailWorker(env, smtpPort);
    await startSmsWorker(env);
    await createWelcomeTemplate(api.app);
    await createMultiChannelTemplate(api.app, "order_text", ["sms"]);
    user = await createUser(api.app, { phone: "+14155550142", external_id: "grace-console" });
    fs.mkdirSync(SHOTS, { recursive: true });
    profile = freshProfile();
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await env?.cleanup();
  });

  /** A new tab (its own sessionStorage), failing the test on any page error or CSP violation. */
  async function tab(): Promise<{ page: Page; problems: string[] }> {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(String(error)));
    page.on("console", (message) => {
      // An API refusal (4xx) is shown by the page; anything else (a script error, a CSP violation) is a failure.
      if (message.type() === "error" && !/the server responded with a status of 4\d\d/.test(message.text())) problems.push(message.text());
    });
    page.on("dialog", (dialog) => void dialog.accept());
    return { page, problems };
  }

  /** Opens a section of the console from its navigation. */
  const section = (page: Page, name: string) => page.getByRole("navigation", { name: "Console sections" }).getByRole("link", { name, exact: true }).click();

  async function signIn(page: Page, key: string): Promise<void> {
    await page.goto(`${base}/console/`);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
  }

  async function sendFromConsole(page: Page, fields: { channel: string; template: string; variables: string; key: string }): Promise<string> {
    await section(page, "Notifications");
    await page.getByText("Send a test notification").click();
    const form = page.getByRole("form", { name: "Send a test notification" });
    await form.getByLabel("User (id or external id)").fill("grace-console");
    await form.getByLabel("Channel").selectOption(fields.channel);
    await form.getByLabel("Template id").fill(fields.template);
    await form.getByLabel("Variables (JSON)").fill(fields.variables);
    await form.getByLabel("Idempotency key (optional)").fill(fields.key);
    await form.getByRole("button", { name: "Send" }).click();
    await page.waitForURL(/#\/notifications\/[0-9a-f-]{36}$/);
    return page.url().split("/").pop()!;
  }

  it("signs in, sends an email, finds it by its idempotency key, shows its timeline reach sent and the mail in the inbox", async () => {
    const { page, problems } = await tab();
    await page.goto(`${base}/console/`);
    // The key is never in the URL, and the page needs none to load.
    expect(page.url()).not.toContain(TEST_API_KEY);
    await signIn(page, TEST_API_KEY);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).sessionStorage.getItem("herald.apiKey"))).toBe(TEST_API_KEY);
    await page.getByTestId("workers-alive").filter({ hasText: /^[1-9]/ }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "overview.png"), fullPage: true });

    const key = `console-e2e-${Date.now()}`;
    const requestId = await sendFromConsole(page, { channel: "email", template: "welcome_email", variables: '{"name": "Grace"}', key });

    await section(page, "Notifications");
    await page.getByLabel("Find").fill(key);
    await page.getByRole("button", { name: "Search" }).click();
    const row = page.getByRole("link", { name: requestId });
    await row.waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    await row.click();
    await page.getByTestId("delivery-status-email").getByText("sent").waitFor({ timeout: 30_000 });
    const timeline = page.getByRole("list", { name: "Timeline" });
    await timeline.locator(".step-sent").waitFor();
    const steps = await timeline.locator("li .badge").allTextContents();
    expect(steps).toEqual(["accepted", "queued", "sent"]);
    await page.screenshot({ path: path.join(SHOTS, "timeline.png"), fullPage: true });

    await section(page, "Inbox");
    const mail = page.getByRole("button", { name: new RegExp(user.email.replace(/[.+]/g, "\\$&")) });
    await mail.waitFor({ timeout: 15_000 });
    await mail.click();
    await page.getByRole("heading", { name: "Welcome, Grace!" }).waitFor();
    const frame = page.frameLocator("iframe.mail-html");
    await frame.getByText("Hello Grace, welcome aboard.").waitFor();
    await page.getByRole("tab", { name: "Text" }).click();
    await page.locator("pre.mail-text").getByText("Hello Grace, welcome aboard.").waitFor();
    await page.screenshot({ path: path.join(SHOTS, "inbox.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it("shows a sandbox fault dead-letter, replays it from the dead letters page, and it is sent once", async () => {
    const { page, problems } = await tab();
    await signIn(page, TEST_API_KEY);
    expect((await request(app).post("/sandbox/faults").set(AUTH).send({ channel: "sms", mode: "permanent", count: 1 })).status).toBe(201);
    const requestId = await sendFromConsole(page, { channel: "sms", template: "order_text", variables: '{"name": "Grace"}', key: `console-dlq-${Date.now()}` });
    await page.getByTestId("delivery-status-sms").getByText("dead lettered").waitFor({ timeout: 30_000 });
    await page.getByRole("list", { name: "Timeline" }).locator(".step-dead_lettered").waitFor();

    await section(page, "Dead letters");
    const { body } = await request(app).get("/dlq").query({ channel: "sms" }).set(AUTH);
    const deadLetter = (body.data as { id: string; request_id: string }[]).find((d) => d.request_id === requestId)!;
    await page.getByRole("checkbox", { name: `Select dead letter ${deadLetter.id}` }).check();
    await page.getByRole("button", { name: "Replay selected (1)" }).click();
    await page.getByTestId("replay-outcomes").getByText(/is queued again \(replay #1\)/).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "dead-letters.png"), fullPage: true });

    await page.goto(`${base}/console/#/notifications/${requestId}`);
    await page.getByTestId("delivery-status-sms").getByText("sent").waitFor({ timeout: 30_000 });
    await page.getByRole("list", { name: "Timeline" }).locator(".step-replayed").waitFor();
    const deliveryId = ((await request(app).get(`/notifications/${requestId}`).set(AUTH)).body.data.deliveries[0] as { delivery_id: string }).delivery_id;
    const caught = await waitFor(
      async () => {
        const messages = (await request(app).get("/sandbox/messages").query({ channel: "sms" }).set(AUTH)).body.data as { delivery_id: string }[];
        return messages.some((m) => m.delivery_id === deliveryId) ? messages.filter((m) => m.delivery_id === deliveryId) : undefined;
      },
      { what: "the replayed SMS in the sandbox" },
    );
    expect(caught).toHaveLength(1);
    // A second replay from the page is refused: it never sends twice.
    await page.goto(`${base}/console/#/dead-letters/id/${deadLetter.id}`);
    await page.getByRole("button", { name: "Replay" }).click();
    await page.getByRole("alert").getByText(/409 already_replayed/).waitFor();
    const audit = (await request(app).get("/audit").query({ action: "dlq.replay" }).set(AUTH)).body.data as { target: { id: string } }[];
    expect(audit.map((a) => a.target.id)).toEqual([deadLetter.id]);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it("shows a read-only key no write button, and the API refuses its writes with 403", async () => {
    const { page, problems } = await tab();
    await signIn(page, VIEWER_KEY);
    await page.getByRole("note").getByText("Read-only key").waitFor();
    await section(page, "Notifications");
    await page.getByRole("button", { name: "Search" }).waitFor();
    expect(await page.getByText("Send a test notification").count()).toBe(0);
    await section(page, "Dead letters");
    await page.getByRole("button", { name: "Filter" }).waitFor();
    expect(await page.getByRole("button", { name: /Replay|Discard/ }).count()).toBe(0);
    expect(await page.getByRole("checkbox").count()).toBe(0);
    await section(page, "Templates");
    await page.getByRole("link", { name: "welcome_email" }).click();
    await page.getByTestId("preview-subject").waitFor();
    expect(await page.getByRole("button", { name: /Save|Send test/ }).count()).toBe(0);
    expect(await page.getByLabel("Subject").isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, "read-only.png"), fullPage: true });

    // The page hides the buttons; the API is what refuses (a send, a template write through the proxied service, a replay).
    const statuses = await page.evaluate(async (userId) => {
      const key = (globalThis as unknown as BrowserGlobals).sessionStorage.getItem("herald.apiKey")!;
      const post = (url: string, body: unknown, method = "POST") =>
        fetch(url, { method, headers: { "X-API-Key": key, "Content-Type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => [r.status, ((await r.json()) as { error: { code: string } }).error?.code]);
      return [
        await post("/notifications/send", { user_id: userId, channel: "email", template_id: "welcome_email", variables: { name: "x" } }),
        await post("/templates/welcome_email", { channel: "email", body_text: "changed" }, "PUT"),
        await post("/dlq/replay", {}),
      ];
    }, user.id);
    expect(statuses).toEqual([
      [403, "forbidden"],
      [403, "forbidden"],
      [403, "forbidden"],
    ]);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});
