import { useState } from "preact/hooks";
import { ApiError, call, get, query } from "../api";
import { navigate, type PageProps } from "../router";
import { ago } from "../format";
import type { NotificationRequest } from "../types";
import { Empty, ErrorNote, Field, Status, useLoad } from "../ui";

interface UserProfile {
  id: string;
  external_id: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  language: string;
  timezone: string;
  webhook_url: string | null;
  slack_webhook_url: string | null;
  preferences: Record<string, unknown> & { quiet_hours: { start: string; end: string; timezone: string } | null };
  devices: { token: string; platform: string; created_at: string }[];
  created_at: string;
}

/** Finds a user by id, external id or email. */
async function lookUp(text: string): Promise<UserProfile | undefined> {
  const q = text.trim();
  if (!q) return undefined;
  if (q.includes("@")) return (await call<UserProfile[]>("GET", `/users${query({ email: q, limit: 1 })}`)).data[0];
  try {
    return await get<UserProfile>(`/users/${encodeURIComponent(q)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

export function UsersPage({ args }: PageProps) {
  const [text, setText] = useState(args[0] ?? "");
  const found = useLoad(() => lookUp(args[0] ?? ""), [args[0]]);
  return (
    <>
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate("users", text.trim());
        }}
      >
        <Field wide label="User" hint="id, external id or email">
          <input name="user" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </Field>
        <button type="submit">Look up</button>
      </form>
      <ErrorNote error={found.error} />
      {args[0] && !found.loading && !found.data ? <Empty>No such user.</Empty> : null}
      {found.data ? <UserCard user={found.data} /> : null}
    </>
  );
}

function UserCard({ user }: { user: UserProfile }) {
  const recent = useLoad(() => get<NotificationRequest[]>(`/notifications${query({ user_id: user.id, limit: 10 })}`), [user.id]);
  const prefs = Object.entries(user.preferences).filter(([k]) => k.endsWith("_enabled"));
  const quiet = user.preferences.quiet_hours;
  return (
    <>
      <h2>{user.name ?? user.external_id ?? user.id}</h2>
      <dl class="facts">
        <dt>Id</dt>
        <dd>
          <code>{user.id}</code>
        </dd>
        <dt>External id</dt>
        <dd>{user.external_id ?? "–"}</dd>
        <dt>Email</dt>
        <dd>{user.email ?? "–"}</dd>
        <dt>Phone</dt>
        <dd>{user.phone ?? "–"}</dd>
        <dt>Language / time zone</dt>
        <dd>
          {user.language} / {user.timezone}
        </dd>
        <dt>Webhook</dt>
        <dd>{user.webhook_url ?? "–"}</dd>
        <dt>Quiet hours</dt>
        <dd>{quiet ? `${quiet.start}–${quiet.end} (${quiet.timezone})` : "none"}</dd>
      </dl>
      <h3>Preferences</h3>
      <ul class="plain pairs">
        {prefs.map(([k, v]) => (
          <li key={k}>
            {k.replace("_enabled", "")}: <strong>{v ? "on" : "off"}</strong>
          </li>
        ))}
      </ul>
      <h3>Devices</h3>
      {user.devices.length === 0 ? <Empty>No push device.</Empty> : null}
      <ul class="plain">
        {user.devices.map((d) => (
          <li key={d.token}>
            {d.platform} <code>{d.token.slice(0, 24)}…</code> registered {ago(d.created_at)}
          </li>
        ))}
      </ul>
      <h3>Recent notifications</h3>
      <ErrorNote error={recent.error} />
      {recent.data?.length === 0 ? <Empty>None.</Empty> : null}
      <ul class="plain">
        {(recent.data ?? []).map((r) => (
          <li key={r.request_id}>
            <a href={`#/notifications/${r.request_id}`}>{ago(r.created_at)}</a> {r.template_id}{" "}
            {r.deliveries.map((d) => (
              <span key={d.delivery_id} class="pair">
                {d.channel} <Status value={d.status} />
              </span>
            ))}
          </li>
        ))}
      </ul>
    </>
  );
}
