import crypto from "node:crypto";
import type http from "node:http";
import { FakeHttpApi } from "./fake-https";

/**
 * How the fake answers one message, as Twilio's Messages API does: ok (201 queued), an error code
 * with its HTTP status (21211 invalid number, 21610 unsubscribed, ... with 400), rate_limited
 * (429, 20429), server_error (500, 20500), hang (never answers).
 */
export type TwilioBehaviour = "ok" | "rate_limited" | "server_error" | "hang" | { code: number; status?: number; message?: string };

export interface TwilioReceived {
  sid: string;
  to: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string;
  at: number;
}

/**
 * A fake Twilio Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json), reached through
 * `agent` under api.twilio.com. It checks the account's basic auth and the form fields the real
 * API requires, and answers per recipient (`behave`) or for the next N messages (`fail`).
 */
export class FakeTwilio extends FakeHttpApi<TwilioBehaviour> {
  readonly accountSid = `AC${crypto.randomBytes(16).toString("hex")}`;
  readonly authToken = crypto.randomBytes(16).toString("hex");
  readonly received: TwilioReceived[] = [];
  /** Every message request, answered or not. */
  readonly sends: { to: string; at: number }[] = [];
  private readonly byRecipient = new Map<string, TwilioBehaviour>();

  constructor() {
    super(["api.twilio.com"]);
  }

  /** TWILIO_* for this fake. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { TWILIO_ACCOUNT_SID: this.accountSid, TWILIO_AUTH_TOKEN: this.authToken, ...extra };
  }

  /** Every message to this recipient ("+1555..." or "whatsapp:+1555...") gets `behaviour`. */
  behave(to: string, behaviour: TwilioBehaviour): void {
    this.byRecipient.set(to, behaviour);
  }

  protected handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const route = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (req.method !== "POST" || req.headers.host !== "api.twilio.com" || !route) {
      return this.error(res, 404, 20404, `The requested resource ${path} was not found`);
    }
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString("base64")}`;
    if (route[1] !== this.accountSid || req.headers.authorization !== expected) return this.error(res, 401, 20003, "Authenticate");
    const form = new URLSearchParams(body);
    const to = form.get("To") ?? "";
    this.attempts.push(Date.now());
    this.sends.push({ to, at: Date.now() });
    if (!to) return this.error(res, 400, 21604, "A 'To' phone number is required.");
    if (!form.get("From") && !form.get("MessagingServiceSid")) return this.error(res, 400, 21603, "A 'From' phone number is required.");
    const behaviour = this.takeFault() ?? this.byRecipient.get(to) ?? "ok";
    if (behaviour === "hang") return;
    if (behaviour === "rate_limited") return this.error(res, 429, 20429, "Too Many Requests");
    if (behaviour === "server_error") return this.error(res, 500, 20500, "Internal Server Error");
    if (behaviour !== "ok") return this.error(res, behaviour.status ?? 400, behaviour.code, behaviour.message ?? `error ${behaviour.code}`);
    const sid = `SM${crypto.randomBytes(16).toString("hex")}`;
    const message: TwilioReceived = {
      sid,
      to,
      from: form.get("From") ?? undefined,
      messagingServiceSid: form.get("MessagingServiceSid") ?? undefined,
      body: form.get("Body") ?? "",
      at: Date.now(),
    };
    this.received.push(message);
    this.reply(res, 201, {
      sid,
      account_sid: this.accountSid,
      to,
      from: message.from ?? null,
      messaging_service_sid: message.messagingServiceSid ?? null,
      body: message.body,
      status: "queued",
      direction: "outbound-api",
      num_segments: "1",
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}.json`,
    });
  }

  private error(res: http.ServerResponse, status: number, code: number, message: string): void {
    this.reply(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  }
}
