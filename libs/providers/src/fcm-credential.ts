import https from "node:https";
import type { Credential } from "firebase-admin/app";
import { JWT } from "google-auth-library";

/** The part of a Google service account key file the FCM adapter uses. */
export interface ServiceAccount {
  project_id: string;
  client_email: string;
  private_key: string;
}

const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * A fetch() for google-auth-library (gaxios) that goes through the given https.Agent. gaxios on
 * Node loads node-fetch with a dynamic import(), which jest's CommonJS runtime cannot do, and it
 * ignores an agent once it uses another fetch; this one keeps both working with one code path.
 */
export function agentFetch(agent: https.Agent): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = new Headers(init.headers);
      let body: string | Buffer | undefined;
      if (init.body instanceof URLSearchParams) {
        body = init.body.toString();
        if (!headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded");
      } else if (typeof init.body === "string" || Buffer.isBuffer(init.body)) {
        body = init.body;
      } else if (init.body !== undefined && init.body !== null) {
        reject(new TypeError("agentFetch sends only string, Buffer or URLSearchParams bodies"));
        return;
      }
      const request = https.request(
        url,
        { method: init.method ?? "GET", headers: Object.fromEntries(headers), agent, ...(init.signal ? { signal: init.signal } : {}) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            const status = response.statusCode ?? 500;
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(response.headers)) {
              for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, v);
            }
            resolve(new Response(NULL_BODY_STATUS.has(status) ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
          });
        },
      );
      request.on("error", reject);
      request.end(body);
    });
}

/**
 * The OAuth2 credential of the FCM adapter: google-auth-library's JWT client (signs the service
 * account's assertion, exchanges it at Google's token endpoint, caches and refreshes the token),
 * with its HTTP calls through `agent`. firebase-admin's own cert() loses the agent when the
 * service account is given as an object, so the adapter passes this Credential instead.
 */
export function serviceAccountCredential(account: ServiceAccount, agent: https.Agent): Credential {
  const client = new JWT({
    email: account.client_email,
    key: account.private_key,
    scopes: [FCM_SCOPE],
    transporterOptions: { fetchImplementation: agentFetch(agent) },
  });
  return {
    async getAccessToken() {
      const { token } = await client.getAccessToken();
      if (!token) throw new Error("the token endpoint returned no access token");
      const expiry = client.credentials.expiry_date ?? Date.now() + 3_600_000;
      return { access_token: token, expires_in: Math.max(0, Math.floor((expiry - Date.now()) / 1000)) };
    },
  };
}
