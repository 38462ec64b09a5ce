import { useEffect, useState } from "preact/hooks";
import { call, describe, session } from "./api";
import { Field, Status } from "./ui";
import { OverviewPage } from "./pages/overview";
import { NotificationsPage } from "./pages/notifications";
import { DeadLettersPage } from "./pages/dead-letters";
import { InboxPage } from "./pages/inbox";
import { TemplatesPage } from "./pages/templates";
import { UsersPage } from "./pages/users";
import { AuditPage } from "./pages/audit";
import { route } from "./router";

export interface Caller {
  key_id: string;
  role: "admin" | "read";
}

const PAGES = [
  { path: "overview", title: "Overview", Page: OverviewPage },
  { path: "notifications", title: "Notifications", Page: NotificationsPage },
  { path: "dead-letters", title: "Dead letters", Page: DeadLettersPage },
  { path: "inbox", title: "Inbox", Page: InboxPage },
  { path: "templates", title: "Templates", Page: TemplatesPage },
  { path: "users", title: "Users", Page: UsersPage },
  { path: "audit", title: "Audit log", Page: AuditPage },
] as const;

function SignIn({ onSignedIn }: { onSignedIn: (caller: Caller) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { data } = await call<Caller>("GET", "/whoami", undefined, key.trim());
      session.set(key.trim());
      onSignedIn(data);
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <h1>Herald console</h1>
      <form onSubmit={(e) => void submit(e)} aria-describedby="signin-help">
        <Field label="API key">
          <input name="api-key" type="password" autoComplete="off" required value={key} onInput={(e) => setKey(e.currentTarget.value)} autoFocus />
        </Field>
        <p id="signin-help" class="hint">
          The key printed by <code>npm start</code> (or one of API_KEYS). It stays in this browser tab only (sessionStorage) and is sent to this
          server's API with every call.
        </p>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

export function App() {
  const [caller, setCaller] = useState<Caller | null | undefined>(undefined);
  const [where, setWhere] = useState(route);

  useEffect(() => {
    const onHash = () => setWhere(route());
    addEventListener("hashchange", onHash);
    const key = session.key();
    if (!key) setCaller(null);
    else
      call<Caller>("GET", "/whoami").then(
        ({ data }) => setCaller(data),
        () => {
          session.clear();
          setCaller(null);
        },
      );
    return () => removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    const page = PAGES.find((p) => p.path === where.page);
    document.title = `${page?.title ?? "Herald"} · Herald console`;
  }, [where.page]);

  if (caller === undefined) return <p class="boot">Loading…</p>;
  if (caller === null) return <SignIn onSignedIn={setCaller} />;
  const current = PAGES.find((p) => p.path === where.page) ?? PAGES[0];
  const { Page } = current;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Herald</span>
        <nav aria-label="Console sections">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={p === current ? "page" : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          key <code>{caller.key_id}</code> <Status value={caller.role} />
          <button
            type="button"
            class="link"
            onClick={() => {
              session.clear();
              setCaller(null);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      {caller.role === "read" ? (
        <p class="banner" role="note">
          Read-only key: you can look at everything; sending, editing, replaying and discarding are not available.
        </p>
      ) : null}
      <main id="main" tabIndex={-1}>
        <h1>{current.title}</h1>
        <Page canWrite={caller.role === "admin"} args={current.path === where.page ? where.args : []} />
      </main>
    </>
  );
}
