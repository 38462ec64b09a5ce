import { useState } from "preact/hooks";
import { call, query } from "../api";
import type { PageProps } from "../router";
import { time } from "../format";
import type { AuditEntry } from "../types";
import { Empty, ErrorNote, Field, Json, useLoad } from "../ui";

/** Every write through the API: who (key fingerprint), what, when, before and after. */
export function AuditPage(_: PageProps) {
  const [filter, setFilter] = useState({ action: "", target_type: "", target_id: "", key_id: "" });
  const [asked, setAsked] = useState(filter);
  const [extra, setExtra] = useState<{ items: AuditEntry[]; cursor?: string }>({ items: [] });
  const page = useLoad(async () => {
    const env = await call<AuditEntry[]>("GET", `/audit${query({ ...asked, limit: 50 })}`);
    setExtra({ items: [], ...(env.meta.next_cursor ? { cursor: env.meta.next_cursor } : {}) });
    return env.data;
  }, [asked]);
  const more = async () => {
    if (!extra.cursor) return;
    const env = await call<AuditEntry[]>("GET", `/audit${query({ ...asked, limit: 50, cursor: extra.cursor })}`);
    setExtra({ items: [...extra.items, ...env.data], ...(env.meta.next_cursor ? { cursor: env.meta.next_cursor } : {}) });
  };
  const set = (k: keyof typeof filter) => (e: { currentTarget: { value: string } }) => setFilter({ ...filter, [k]: e.currentTarget.value });
  const items = [...(page.data ?? []), ...extra.items];
  return (
    <>
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(filter);
        }}
        aria-label="Filter the audit log"
      >
        <Field label="Action">
          <input name="action" value={filter.action} onInput={set("action")} placeholder="template.update" />
        </Field>
        <Field label="Target type">
          <input name="target_type" value={filter.target_type} onInput={set("target_type")} placeholder="user" />
        </Field>
        <Field label="Target id">
          <input name="target_id" value={filter.target_id} onInput={set("target_id")} />
        </Field>
        <Field label="Key">
          <input name="key_id" value={filter.key_id} onInput={set("key_id")} placeholder="12 hex digits" />
        </Field>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={page.error} />
      {!page.loading && items.length === 0 ? <Empty>No entry.</Empty> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Key</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Before / after</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id}>
              <td>{time(e.at)}</td>
              <td>
                <code>{e.key_id}</code>
              </td>
              <td>{e.action}</td>
              <td>
                {e.target.type} <code>{e.target.id}</code>
              </td>
              <td>
                {e.before !== null || e.after !== null ? (
                  <details>
                    <summary>show</summary>
                    {e.before !== null ? <Json label="Before" value={e.before} /> : null}
                    {e.after !== null ? <Json label="After" value={e.after} /> : null}
                  </details>
                ) : (
                  "–"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {extra.cursor ? (
        <button type="button" onClick={() => void more()}>
          Load more
        </button>
      ) : null}
    </>
  );
}
