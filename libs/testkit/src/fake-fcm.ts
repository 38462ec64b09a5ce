import crypto from "node:crypto";
import type http from "node:http";
import { FakeHttpApi } from "./fake-https";

/**
 * How the fake answers one send, as FCM HTTP v1 does:
 * ok (200), unregistered (404 UNREGISTERED), invalid_token (400 INVALID_ARGUMENT about the token),
 * invalid_message (400 INVALID_ARGUMENT about the message), internal (500 INTERNAL),
 * unavailable (503 UNAVAILABLE), quota (429 QUOTA_EXCEEDED), hang (never answers).
 */
export type FcmBehaviour = "ok" | "unregistered" | "invalid_token" | "invalid_message" | "internal" | "unavailable" | "quota" | "hang";

export interface FcmReceived {
  token: string;
  notification?: { title?: string; body?: string; image?: string };
  data?: Record<string, string>;
  android?: Record<string, unknown>;
  apns?: Record<string, unknown>;
  webpush?: Record<string, unknown>;
  name: string;
  at: number;
}

export interface FakeServiceAccount {
  type: "service_account";
  project_id: string;
  client_email: string;
  private_key: string;
  token_uri: string;
}

const FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError";

const ERRORS: Record<Exclude<FcmBehaviour, "ok" | "hang">, { code: number; status: string; fcm: string; message: string }> = {
  unregistered: { code: 404, status: "NOT_FOUND", fcm: "UNREGISTERED", message: "Requested entity was not found." },
  invalid_token: { code: 400, status: "INVALID_ARGUMENT", fcm: "INVALID_ARGUMENT", message: "The registration token is not a valid FCM registration token" },
  invalid_message: { code: 400, status: "INVALID_ARGUMENT", fcm: "INVALID_ARGUMENT", message: "Invalid value at 'message.data[0].value' (TYPE_STRING)" },
  internal: { code: 500, status: "INTERNAL", fcm: "INTERNAL", message: "Internal error encountered." },
  unavailable: { code: 503, status: "UNAVAILABLE", fcm: "UNAVAILABLE", message: "The service is currently unavailable." },
  quota: { code: 429, status: "RESOURCE_EXHAUSTED", fcm: "QUOTA_EXCEEDED", message: "Quota exceeded for quota metric 'Send requests'." },
};

/**
 * A fake FCM HTTP v1 API with its OAuth token endpoint, reached through `agent` under the real
 * host names (fcm.googleapis.com, oauth2.googleapis.com). It checks what Google checks: the
 * token request's JWT assertion is signed by the service account's key (serviceAccount has a
 * fresh one) and asks for the messaging scope; each send carries a token it issued. Answers per
 * device token (`behave`), or for the next N sends (`fail`).
 */
export class FakeFcm extends FakeHttpApi<FcmBehaviour> {
  readonly projectId = "herald-test";
  readonly serviceAccount: FakeServiceAccount;
  /** Messages FCM accepted. */
  readonly received: FcmReceived[] = [];
  /** Every send, answered or not, with the token it was for. */
  readonly sends: { token: string; at: number; behaviour: FcmBehaviour }[] = [];
  /** Access tokens issued by the OAuth endpoint. */
  readonly issuedTokens: string[] = [];
  private readonly publicKey: crypto.KeyObject;
  private readonly byToken = new Map<string, FcmBehaviour>();

  constructor() {
    super(["fcm.googleapis.com", "oauth2.googleapis.com"]);
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.publicKey = publicKey;
    this.serviceAccount = {
      type: "service_account",
      project_id: this.projectId,
      client_email: `herald@${this.projectId}.iam.gserviceaccount.com`,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      token_uri: "https://oauth2.googleapis.com/token",
    };
  }

  /** FIREBASE_SERVICE_ACCOUNT for this fake. */
  get serviceAccountJson(): string {
    return JSON.stringify(this.serviceAccount);
  }

  /** Every send to this token gets `behaviour` (until changed). */
  behave(token: string, behaviour: FcmBehaviour): void {
    this.byToken.set(token, behaviour);
  }

  protected handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://fake");
    if (req.method === "POST" && req.headers.host === "oauth2.googleapis.com" && url.pathname === "/token") return this.token(body, res);
    const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url.pathname);
    if (req.method === "POST" && req.headers.host === "fcm.googleapis.com" && send) return this.send(send[1]!, req, body, res);
    this.reply(res, 404, { error: { code: 404, message: `no route ${req.method} ${req.headers.host}${url.pathname}`, status: "NOT_FOUND" } });
  }

  private token(body: string, res: http.ServerResponse): void {
    const form = new URLSearchParams(body);
    const [header, claims, signature] = (form.get("assertion") ?? "").split(".");
    const signed =
      form.get("grant_type") === "urn:ietf:params:oauth:grant-type:jwt-bearer" &&
      header !== undefined &&
      claims !== undefined &&
      signature !== undefined &&
      crypto.verify("RSA-SHA256", Buffer.from(`${header}.${claims}`), this.publicKey, Buffer.from(signature, "base64url"));
    const payload = signed ? (JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as { iss?: string; scope?: string }) : {};
    if (!signed || payload.iss !== this.serviceAccount.client_email || !payload.scope?.includes("firebase.messaging")) {
      return this.reply(res, 400, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
    }
    const accessToken = `ya29.fake-${crypto.randomBytes(8).toString("hex")}`;
    this.issuedTokens.push(accessToken);
    this.reply(res, 200, { access_token: accessToken, expires_in: 3599, token_type: "Bearer" });
  }

  private send(project: string, req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer || !this.issuedTokens.includes(bearer)) {
      return this.reply(res, 401, { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" } });
    }
    if (project !== this.projectId) {
      return this.reply(res, 403, { error: { code: 403, message: "SenderId mismatch", status: "PERMISSION_DENIED", details: [{ "@type": FCM_ERROR, errorCode: "SENDER_ID_MISMATCH" }] } });
    }
    const message = (JSON.parse(body) as { message: Omit<FcmReceived, "at" | "name"> }).message;
    this.attempts.push(Date.now());
    const behaviour = this.takeFault() ?? this.byToken.get(message.token) ?? "ok";
    this.sends.push({ token: message.token, at: Date.now(), behaviour });
    if (behaviour === "hang") return;
    if (behaviour === "ok") {
      const name = `projects/${project}/messages/0:${Date.now()}%${crypto.randomBytes(6).toString("hex")}`;
      this.received.push({ ...message, name, at: Date.now() });
      return this.reply(res, 200, { name });
    }
    const e = ERRORS[behaviour];
    this.reply(res, e.code, { error: { code: e.code, message: e.message, status: e.status, details: [{ "@type": FCM_ERROR, errorCode: e.fcm }] } });
  }
}
