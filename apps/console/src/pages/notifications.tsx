import { useState } from "preact/hooks";
import { ApiError, call, get, post, query } from "../api";
import { navigate, type PageProps } from "../router";
import { CHANNELS, STATUSES, UUID, ago, isoOf, time } from "../format";
import type { NotificationRequest, TimelineEvent } from "../types";
import { Empty, ErrorNote, Field, Notice, Status, useInterval, useLoad } from "../ui";

interface Filters {
  status: string;
  channel: string;
  template_id: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { status: "", channel: "", template_id: "", from: "", to: "" };
const FINISHED = new Set(["sent", "failed", "dead_lettered", "suppressed", "cancelled"]);

/**
 * Finds requests by whatever the operator has: a request id, a correlation id, an idempotency key,
 * a user (id, external id, email, phone) or a provider message id. Each is a filter of
 * GET /notifications; the answers are merged, newest first.
 */
async function find(text: string, filters: Filters, cursor?: string): Promise<{ items: NotificationRequest[]; cursor?: string }> {
  const q = text.trim();
  const base = { status: filters.status, channel: filters.channel, template_id: filters.template_id, from: isoOf(filters.from), to: isoOf(filters.to), limit: 50 };
  if (!q) {
    const env = await call<NotificationRequest[]>("GET", `/notifications${query({ ...base, cursor })}`);
    return { items: env.data, ...(env.meta.next_cursor ? { cursor: env.meta.next_cursor } : {}) };
  }
  const found: NotificationRequest[] = [];
  if (UUID.test(q)) {
    try {
      found.push(await get<NotificationRequest>(`/notifications/${q}`));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }
  const searches: Record<string, string>[] = [{ correlation_id: q }, { provider_message_id: q }, { user_id: q }];
  if (/^[\x21-\x7e]+$/.test(q)) searches.push({ idempotency_key: q });
  if (q.length >= 3 && (q.includes("@") || /^\+\d+$/.test(q))) searches.push({ recipient: q });
  const answers = await Promise.allSettled(searches.map((s) => call<NotificationRequest[]>("GET", `/notifications${query({ ...base, ...s })}`)));
  for (const answer of answers) if (answer.status === "fulfilled") found.push(...answer.value.data);
  const byId = new Map(found.map((r) => [r.request_id, r]));
  return { items: [...byId.values()].sort((a, b) => b.request_id.localeCompare(a.request_id)) };
}

export function NotificationsPage({ canWrite, args }: PageProps) {
  if (args[0]) return <RequestDetail id={args[0]} canWrite={canWrite} />;
  return <NotificationList canWrite={canWrite} />;
}

function NotificationList({ canWrite }: { canWrite: boolean }) {
  const [text, setText] = useState("");
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [asked, setAsked] = useState<{ text: string; filters: Filters }>({ text: "", filters: EMPTY });
  const [pages, setPages] = useState<{ items: NotificationRequest[]; cursor?: string }>({ items: [] });
  const list = useLoad(async () => {
    const page = await find(asked.text, asked.filters);
    setPages(page);
    return page;
  }, [asked]);
  const loadMore = async () => {
    if (!pages.cursor) return;
    const next = await find("", asked.filters, pages.cursor);
    setPages({ items: [...pages.items, ...next.items], ...(next.cursor ? { cursor: next.cursor } : {}) });
  };
  const set = (k: keyof Filters) => (e: { currentTarget: { value: string } }) => setFilters({ ...filters, [k]: e.currentTarget.value });
  const items = pages.items;
  const hasMore = Boolean(pages.cursor);
  return (
    <>
      {canWrite ? <SendForm /> : null}
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked({ text, filters });
        }}
      >
        <Field wide label="Find" hint="request id, correlation id, idempotency key, user id / external id / email / phone, provider message id">
          <input name="q" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </Field>
        <Field label="Status">
          <select name="status" value={filters.status} onChange={set("status")}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </Field>
        <Field label="Channel">
          <select name="channel" value={filters.channel} onChange={set("channel")}>
            <option value="">any</option>
            {CHANNELS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </Field>
        <Field label="Template">
          <input name="template_id" value={filters.template_id} onInput={set("template_id")} />
        </Field>
        <Field label="From">
          <input name="from" type="datetime-local" value={filters.from} onInput={set("from")} />
        </Field>
        <Field label="To">
          <input name="to" type="datetime-local" value={filters.to} onInput={set("to")} />
        </Field>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={list.error} />
      {list.loading ? <Notice>Searching…</Notice> : <Notice>{items.length} request(s)</Notice>}
      {!list.loading && items.length === 0 ? <Empty>No request matches.</Empty> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">Accepted</th>
            <th scope="col">User</th>
            <th scope="col">Template</th>
            <th scope="col">Deliveries</th>
          </tr>
        </thead>
        <tbody>
          {items.map((r) => (
            <tr key={r.request_id}>
              <td>
                <a href={`#/notifications/${r.request_id}`}>
                  <code>{r.request_id}</code>
                </a>
              </td>
              <td>{ago(r.created_at)}</td>
              <td>{r.user_ref}</td>
              <td>{r.template_id ?? "–"}</td>
              <td>
                {r.deliveries.map((d) => (
                  <span key={d.delivery_id} class="pair">
                    {d.channel} <Status value={d.status} />
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {hasMore ? (
        <button type="button" onClick={() => void loadMore()}>
          Load more
        </button>
      ) : null}
    </>
  );
}

/** Send a test notification (admin keys only). */
function SendForm() {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ user_id: "", channel: "email", template_id: "welcome_email", variables: '{"name": "Ada"}', idempotency_key: "" });
  const [result, setResult] = useState<{ ok?: string; error?: unknown }>({});
  const submit = async (e: Event) => {
    e.preventDefault();
    setResult({});
    try {
      const variables = JSON.parse(form.variables || "{}") as unknown;
      const env = await post<{ request_id: string; status: string }>("/notifications/send", {
        user_id: form.user_id,
        channel: form.channel,
        template_id: form.template_id,
        variables,
        ...(form.idempotency_key ? { idempotency_key: form.idempotency_key } : {}),
      });
      setResult({ ok: `Accepted: request ${env.data.request_id} (${env.data.status})` });
      navigate("notifications", env.data.request_id);
    } catch (error) {
      setResult({ error });
    }
  };
  const set = (k: keyof typeof form) => (e: { currentTarget: { value: string } }) => setForm({ ...form, [k]: e.currentTarget.value });
  return (
    <details class="panel" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Send a test notification</summary>
      <form onSubmit={(e) => void submit(e)} class="grid" aria-label="Send a test notification">
        <Field label="User (id or external id)">
          <input name="send-user" required value={form.user_id} onInput={set("user_id")} />
        </Field>
        <Field label="Channel">
          <select name="send-channel" value={form.channel} onChange={set("channel")}>
            {CHANNELS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </Field>
        <Field label="Template id">
          <input name="send-template" required value={form.template_id} onInput={set("template_id")} />
        </Field>
        <Field label="Variables (JSON)">
          <textarea name="send-variables" rows={2} value={form.variables} onInput={set("variables")} />
        </Field>
        <Field label="Idempotency key (optional)">
          <input name="send-idempotency-key" value={form.idempotency_key} onInput={set("idempotency_key")} />
        </Field>
        <button type="submit">Send</button>
      </form>
      {result.ok ? <Notice>{result.ok}</Notice> : null}
      <ErrorNote error={result.error} />
    </details>
  );
}

function RequestDetail({ id, canWrite }: { id: string; canWrite: boolean }) {
  const request = useLoad(() => get<NotificationRequest>(`/notifications/${id}`), [id]);
  const timeline = useLoad(() => get<{ events: TimelineEvent[] }>(`/notifications/${id}/timeline`), [id]);
  const [action, setAction] = useState<{ ok?: string; error?: unknown }>({});
  const finished = request.data?.deliveries.every((d) => FINISHED.has(d.status)) ?? false;
  useInterval(
    () => {
      request.reload();
      timeline.reload();
    },
    finished ? null : 2000,
  );
  const cancel = async () => {
    try {
      await post(`/notifications/${id}/cancel`);
      setAction({ ok: "Cancelled what had not gone out yet" });
      request.reload();
      timeline.reload();
    } catch (error) {
      setAction({ error });
    }
  };
  const r = request.data;
  return (
    <>
      <p>
        <a href="#/notifications">← all notifications</a>
      </p>
      <ErrorNote error={request.error} />
      {r ? (
        <>
          <h2>
            Request <code>{r.request_id}</code> <Status value={r.status} />
          </h2>
          <dl class="facts">
            <dt>User</dt>
            <dd>
              <a href={`#/users/${encodeURIComponent(r.user_id)}`}>{r.user_ref}</a>
            </dd>
            <dt>Template</dt>
            <dd>{r.template_id ?? "–"}</dd>
            <dt>Priority</dt>
            <dd>{r.priority}</dd>
            <dt>Correlation id</dt>
            <dd>
              <code>{r.correlation_id}</code>
            </dd>
            <dt>Accepted</dt>
            <dd>{time(r.created_at)}</dd>
          </dl>
          <table>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">Last error</th>
                <th scope="col">Provider message id</th>
              </tr>
            </thead>
            <tbody>
              {r.deliveries.map((d) => (
                <tr key={d.delivery_id}>
                  <td>{d.channel}</td>
                  <td data-testid={`delivery-status-${d.channel}`}>
                    <Status value={d.status} />
                  </td>
                  <td class="num">{d.attempts}</td>
                  <td>{d.last_error_code ? `${d.last_error_code}: ${d.last_error ?? ""}` : "–"}</td>
                  <td>{d.provider_message_id ? <code>{d.provider_message_id}</code> : "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {canWrite && !finished ? (
            <button type="button" onClick={() => void cancel()}>
              Cancel what has not gone out
            </button>
          ) : null}
          {action.ok ? <Notice>{action.ok}</Notice> : null}
          <ErrorNote error={action.error} />
        </>
      ) : null}
      <h2>Timeline</h2>
      <ErrorNote error={timeline.error} />
      <ol class="timeline" aria-label="Timeline">
        {(timeline.data?.events ?? []).map((e, i) => (
          <li key={i} class={`step step-${e.step}`}>
            <time dateTime={e.at}>{time(e.at)}</time>
            <span class="what">
              {e.channel ? <span class="chan">{e.channel}</span> : null}
              <Status value={e.step} />
              {e.attempt ? <span> attempt {e.attempt}</span> : null}
              {e.provider ? <span> via {e.provider}</span> : null}
              {e.wait_ms !== undefined ? <span> waits {(e.wait_ms / 1000).toFixed(1)} s</span> : null}
            </span>
            <span class="why">
              {e.error_code ? <code>{e.error_code}</code> : null} {e.reason ?? ""}
              {e.details && e.step === "dead_lettered" ? (
                <>
                  {" "}
                  <a href={`#/dead-letters/id/${String(e.details.dead_letter_id)}`}>inspect</a>
                </>
              ) : null}
              {e.step === "sent" && typeof e.details?.provider_message_id === "string" ? <> provider id <code>{e.details.provider_message_id}</code></> : null}
            </span>
          </li>
        ))}
      </ol>
    </>
  );
}
