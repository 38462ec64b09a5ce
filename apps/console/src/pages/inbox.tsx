import { useState } from "preact/hooks";
import { call, query } from "../api";
import type { PageProps } from "../router";
import { ago, time } from "../format";
import type { SandboxMessage } from "../types";
import { Empty, ErrorNote, Field, Json, useInterval, useLoad } from "../ui";

const CHANNELS = ["", "email", "push", "sms", "whatsapp"];

/** The dev inbox and the sandbox providers: every message they caught (not in production). */
export function InboxPage(_: PageProps) {
  const [channel, setChannel] = useState("");
  const [to, setTo] = useState("");
  const [open, setOpen] = useState<string>();
  const list = useLoad(() => call<SandboxMessage[]>("GET", `/sandbox/messages${query({ channel, to, limit: 50 })}`), [channel, to]);
  useInterval(list.reload, 3000);
  const items = list.data?.data ?? [];
  const current = items.find((m) => m.id === open);
  return (
    <>
      <form class="search" onSubmit={(e) => e.preventDefault()} aria-label="Filter the inbox">
        <Field label="Channel">
          <select name="channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value)}>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c || "all"}
              </option>
            ))}
          </select>
        </Field>
        <Field label="To">
          <input name="to" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </Field>
      </form>
      <ErrorNote error={list.error} />
      <div class="inbox">
        <ul class="messages" aria-label="Messages">
          {!list.loading && items.length === 0 ? <Empty>Nothing caught yet.</Empty> : null}
          {items.map((m) => (
            <li key={m.id}>
              <button type="button" class={`message ${m.id === open ? "active" : ""}`} aria-pressed={m.id === open} onClick={() => setOpen(m.id)}>
                <span class="chan">{m.channel}</span> <strong>{m.to}</strong>
                <span class="subject">{m.subject ?? m.body?.slice(0, 60) ?? ""}</span>
                <small>{ago(m.created_at)}</small>
              </button>
            </li>
          ))}
        </ul>
        <section class="reader" aria-label="Message">
          {current ? <Message message={current} /> : <Empty>Choose a message.</Empty>}
        </section>
      </div>
    </>
  );
}

function Message({ message }: { message: SandboxMessage }) {
  const [view, setView] = useState<"html" | "text">(message.html ? "html" : "text");
  if (message.channel === "email") {
    return (
      <article class="mail">
        <h2>{message.subject ?? "(no subject)"}</h2>
        <p>
          To <strong>{message.to}</strong> · {time(message.created_at)}
        </p>
        <div role="tablist" aria-label="Show the mail as">
          <button type="button" role="tab" aria-selected={view === "html"} disabled={!message.html} onClick={() => setView("html")}>
            HTML
          </button>
          <button type="button" role="tab" aria-selected={view === "text"} onClick={() => setView("text")}>
            Text
          </button>
        </div>
        {view === "html" && message.html ? (
          // sandbox="": no scripts, no forms, no navigation, no same-origin access.
          <iframe title={`HTML of ${message.subject ?? "the mail"}`} sandbox="" srcdoc={message.html} class="mail-html" />
        ) : (
          <pre class="mail-text">{message.body}</pre>
        )}
      </article>
    );
  }
  if (message.channel === "push") {
    const payload = (message.payload ?? {}) as { title?: string; body?: string; image?: string };
    return (
      <div class="phone" aria-label="As a phone shows it">
        <div class="push">
          <strong>{payload.title ?? message.subject ?? "Notification"}</strong>
          <p>{payload.body ?? message.body}</p>
          <small>to {message.to}</small>
        </div>
        <details>
          <summary>Payload</summary>
          <Json label="Push payload" value={message.payload} />
        </details>
      </div>
    );
  }
  return (
    <div class="phone" aria-label="As a phone shows it">
      <p class="from">
        {message.channel === "whatsapp" ? "WhatsApp" : "SMS"} to {message.to}
      </p>
      <p class="bubble">{message.body}</p>
      <small>{time(message.created_at)}</small>
    </div>
  );
}
