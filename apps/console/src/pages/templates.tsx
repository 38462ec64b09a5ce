import { useEffect, useState } from "preact/hooks";
import { call, describe, get, post, put, query } from "../api";
import { navigate, type PageProps } from "../router";
import { lineDiff } from "../diff";
import { time } from "../format";
import type { Template, TemplateVersion } from "../types";
import { Empty, ErrorNote, Field, Notice, useLoad } from "../ui";

export function TemplatesPage({ canWrite, args }: PageProps) {
  if (args[0]) return <TemplateView id={args[0]} canWrite={canWrite} />;
  return <TemplateList />;
}

function TemplateList() {
  const list = useLoad(() => call<Template[]>("GET", `/templates${query({ limit: 200 })}`), []);
  const items = list.data?.data ?? [];
  return (
    <>
      <ErrorNote error={list.error} />
      {!list.loading && items.length === 0 ? <Empty>No templates yet.</Empty> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Template</th>
            <th scope="col">Name</th>
            <th scope="col">Variants (channel · language · version)</th>
          </tr>
        </thead>
        <tbody>
          {items.map((t) => (
            <tr key={t.template_id}>
              <td>
                <a href={`#/templates/${encodeURIComponent(t.template_id)}`}>{t.template_id}</a>
              </td>
              <td>{t.name}</td>
              <td>{t.variants.map((v) => `${v.channel} · ${v.language} · v${v.version}`).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Sample values for a template's variables, for the preview. */
function samples(variables: string[]): string {
  return JSON.stringify(Object.fromEntries(variables.map((v) => [v, v === "name" ? "Ada" : `sample ${v}`])), null, 2);
}

interface Draft {
  subject: string;
  body_text: string;
  body_html: string;
  title: string;
}

function draftOf(v: TemplateVersion): Draft {
  return { subject: v.subject ?? "", body_text: v.body_text, body_html: v.body_html ?? "", title: v.title ?? "" };
}

function TemplateView({ id, canWrite }: { id: string; canWrite: boolean }) {
  const template = useLoad(() => get<Template>(`/templates/${encodeURIComponent(id)}`), [id]);
  const [variantKey, setVariantKey] = useState<string>();
  const variants = template.data?.variants ?? [];
  const variant = variants.find((v) => `${v.channel}/${v.language}` === variantKey) ?? variants[0];
  return (
    <>
      <p>
        <a href="#/templates">← all templates</a>
      </p>
      <ErrorNote error={template.error} />
      {template.data ? (
        <>
          <h2>
            {template.data.template_id} <small>{template.data.name}</small>
          </h2>
          <Field label="Variant">
            <select name="variant" value={variant ? `${variant.channel}/${variant.language}` : ""} onChange={(e) => setVariantKey(e.currentTarget.value)}>
              {variants.map((v) => (
                <option key={v.version_id} value={`${v.channel}/${v.language}`}>
                  {v.channel} · {v.language} (v{v.version})
                </option>
              ))}
            </select>
          </Field>
          {variant ? <VariantEditor key={variant.version_id} templateId={id} variant={variant} canWrite={canWrite} onSaved={template.reload} /> : null}
          {variant ? <Versions templateId={id} channel={variant.channel} language={variant.language} /> : null}
        </>
      ) : null}
    </>
  );
}

function VariantEditor({ templateId, variant, canWrite, onSaved }: { templateId: string; variant: TemplateVersion; canWrite: boolean; onSaved: () => void }) {
  const [draft, setDraft] = useState<Draft>(draftOf(variant));
  const [variables, setVariables] = useState(samples(variant.variables));
  const [preview, setPreview] = useState<{ subject?: string; body_text?: string; body_html?: string; title?: string }>();
  const [previewError, setPreviewError] = useState<unknown>();
  const [saved, setSaved] = useState<{ ok?: string; error?: unknown }>({});
  const [testUser, setTestUser] = useState("");

  // Live preview: the unsaved draft rendered by the API a moment after typing stops.
  useEffect(() => {
    const timer = setTimeout(() => {
      let vars: unknown;
      try {
        vars = JSON.parse(variables || "{}");
      } catch {
        setPreviewError(new Error("The sample variables are not valid JSON"));
        return;
      }
      post<typeof preview>(`/templates/${encodeURIComponent(templateId)}/preview`, {
        channel: variant.channel,
        language: variant.language,
        variables: vars,
        draft: {
          body_text: draft.body_text || " ",
          ...(draft.subject ? { subject: draft.subject } : {}),
          ...(draft.body_html ? { body_html: draft.body_html } : {}),
          ...(draft.title ? { title: draft.title } : {}),
          variables: variant.variables,
        },
      }).then(
        (env) => {
          setPreview(env.data);
          setPreviewError(undefined);
        },
        (error: unknown) => setPreviewError(error),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [draft, variables, templateId, variant]);

  const save = async (e: Event) => {
    e.preventDefault();
    try {
      const { data } = await put<TemplateVersion>(`/templates/${encodeURIComponent(templateId)}`, {
        channel: variant.channel,
        language: variant.language,
        body_text: draft.body_text,
        variables: variant.variables,
        ...(draft.subject ? { subject: draft.subject } : {}),
        ...(draft.body_html ? { body_html: draft.body_html } : {}),
        ...(draft.title ? { title: draft.title } : {}),
      });
      setSaved({ ok: `Saved as version ${data.version}` });
      onSaved();
    } catch (error) {
      setSaved({ error });
    }
  };

  const sendTest = async () => {
    try {
      const { data } = await post<{ request_id: string }>("/notifications/send", {
        user_id: testUser,
        channel: variant.channel,
        template_id: templateId,
        variables: JSON.parse(variables || "{}") as unknown,
      });
      navigate("notifications", data.request_id);
    } catch (error) {
      setSaved({ error });
    }
  };

  const set = (k: keyof Draft) => (e: { currentTarget: { value: string } }) => setDraft({ ...draft, [k]: e.currentTarget.value });
  const isEmail = variant.channel === "email";
  const isPush = variant.channel === "push";
  return (
    <div class="split editor">
      <form onSubmit={(e) => void save(e)} aria-label={`Edit the ${variant.channel} ${variant.language} variant`}>
        <fieldset disabled={!canWrite}>
          <legend>
            {variant.channel} · {variant.language}, version {variant.version} {canWrite ? "" : "(read-only)"}
          </legend>
          {isEmail ? (
            <Field label="Subject">
              <input name="subject" value={draft.subject} onInput={set("subject")} />
            </Field>
          ) : null}
          {isPush ? (
            <Field label="Title">
              <input name="title" value={draft.title} onInput={set("title")} />
            </Field>
          ) : null}
          <Field label="Body (text)">
            <textarea name="body_text" rows={6} value={draft.body_text} onInput={set("body_text")} />
          </Field>
          {isEmail ? (
            <Field label="Body (HTML)">
              <textarea name="body_html" rows={6} value={draft.body_html} onInput={set("body_html")} />
            </Field>
          ) : null}
          <p class="hint">Variables: {variant.variables.join(", ") || "none"}</p>
        </fieldset>
        <Field label="Sample variables (JSON)">
          <textarea name="sample-variables" rows={4} value={variables} onInput={(e) => setVariables(e.currentTarget.value)} />
        </Field>
        {canWrite ? (
          <>
            <button type="submit">Save as a new version</button>
            <div class="inline-form">
              <Field label="Send a test to user (id or external id)">
                <input name="test-user" value={testUser} onInput={(e) => setTestUser(e.currentTarget.value)} />
              </Field>
              <button type="button" disabled={!testUser} onClick={() => void sendTest()}>
                Send test
              </button>
            </div>
          </>
        ) : null}
        {saved.ok ? <Notice>{saved.ok}</Notice> : null}
        <ErrorNote error={saved.error} />
      </form>
      <section class="preview" aria-labelledby="preview-h" aria-live="polite">
        <h3 id="preview-h">Preview</h3>
        {previewError ? <p class="error">{describe(previewError)}</p> : null}
        {preview ? (
          <>
            {preview.subject !== undefined ? (
              <p>
                <strong>Subject:</strong> <span data-testid="preview-subject">{preview.subject}</span>
              </p>
            ) : null}
            {preview.title !== undefined ? (
              <p>
                <strong>Title:</strong> {preview.title}
              </p>
            ) : null}
            <pre class="mail-text" data-testid="preview-text">
              {preview.body_text}
            </pre>
            {preview.body_html ? <iframe title="HTML preview" sandbox="" srcdoc={preview.body_html} class="mail-html" /> : null}
          </>
        ) : null}
      </section>
    </div>
  );
}

function Versions({ templateId, channel, language }: { templateId: string; channel: string; language: string }) {
  const versions = useLoad(() => get<TemplateVersion[]>(`/templates/${encodeURIComponent(templateId)}/versions${query({ channel, language })}`), [templateId, channel, language]);
  const list = versions.data ?? [];
  const [pair, setPair] = useState<[number, number]>();
  const newest = list[0]?.version ?? 1;
  const [a, b] = pair ?? [Math.max(1, newest - 1), newest];
  const va = list.find((v) => v.version === a);
  const vb = list.find((v) => v.version === b);
  const text = (v: TemplateVersion | undefined) => (v ? [`subject: ${v.subject ?? ""}`, `title: ${v.title ?? ""}`, "--- text", v.body_text, "--- html", v.body_html ?? ""].join("\n") : "");
  return (
    <section aria-labelledby="versions-h">
      <h3 id="versions-h">Versions</h3>
      <ErrorNote error={versions.error} />
      <ol class="plain">
        {list.map((v) => (
          <li key={v.version_id}>
            v{v.version} · {time(v.created_at)}
          </li>
        ))}
      </ol>
      {list.length > 1 ? (
        <>
          <div class="inline-form">
            <Field label="Compare version">
              <select name="diff-from" value={a} onChange={(e) => setPair([Number(e.currentTarget.value), b])}>
                {list.map((v) => (
                  <option key={v.version} value={v.version}>
                    v{v.version}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="with version">
              <select name="diff-to" value={b} onChange={(e) => setPair([a, Number(e.currentTarget.value)])}>
                {list.map((v) => (
                  <option key={v.version} value={v.version}>
                    v{v.version}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <pre class="diff" aria-label={`Changes from version ${a} to ${b}`} tabIndex={0}>
            {lineDiff(text(va), text(vb)).map((line, i) => (
              <span key={i} class={`d-${line.kind}`}>
                {line.kind === "added" ? "+ " : line.kind === "removed" ? "− " : "  "}
                {line.text}
                {"\n"}
              </span>
            ))}
          </pre>
        </>
      ) : null}
    </section>
  );
}
