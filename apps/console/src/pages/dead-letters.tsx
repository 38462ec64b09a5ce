import { useState } from "preact/hooks";
import { call, del, describe, get, post, query } from "../api";
import { navigate, type PageProps } from "../router";
import { CHANNELS, ago, isoOf, time } from "../format";
import type { DeadLetter, DeadLetterDetail } from "../types";
import { Empty, ErrorNote, Field, Json, Notice, Status, useLoad } from "../ui";

interface Filter {
  channel: string;
  error_code: string;
  from: string;
  to: string;
  replayed: string;
}

/** What a replay did, one line per dead letter (or per bulk batch). */
type Outcome = { id: string; text: string; ok: boolean };

export function DeadLettersPage({ canWrite, args }: PageProps) {
  if (args[0] === "id" && args[1]) return <DeadLetterView id={args[1]} canWrite={canWrite} />;
  return <DeadLetterList canWrite={canWrite} errorCode={args[0] ?? ""} />;
}

function DeadLetterList({ canWrite, errorCode }: { canWrite: boolean; errorCode: string }) {
  const [filter, setFilter] = useState<Filter>({ channel: "", error_code: errorCode, from: "", to: "", replayed: "false" });
  const [asked, setAsked] = useState(filter);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  const [progress, setProgress] = useState<string>();
  const [busy, setBusy] = useState(false);
  const list = useLoad(
    () =>
      call<DeadLetter[]>(
        "GET",
        `/dlq${query({ channel: asked.channel, error_code: asked.error_code, from: isoOf(asked.from), to: isoOf(asked.to), replayed: asked.replayed, limit: 100 })}`,
      ),
    [asked],
  );
  const set = (k: keyof Filter) => (e: { currentTarget: { value: string } }) => setFilter({ ...filter, [k]: e.currentTarget.value });
  const items = list.data?.data ?? [];
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  const replaySelected = async () => {
    setBusy(true);
    const done: Outcome[] = [];
    for (const id of selected) {
      try {
        const { data } = await post<{ delivery_id: string; delivery_status: string; replay_count: number }>(`/dlq/${id}/replay`);
        done.push({ id, ok: true, text: `delivery ${data.delivery_id} is ${data.delivery_status} again (replay #${data.replay_count})` });
      } catch (error) {
        done.push({ id, ok: false, text: describe(error) });
      }
      setOutcomes([...done]);
    }
    setSelected(new Set());
    setBusy(false);
    list.reload();
  };

  /** Replays everything matching the filter, call after call (each paced by the server), showing progress. */
  const replayMatching = async () => {
    setBusy(true);
    const body = {
      ...(asked.channel ? { channel: asked.channel } : {}),
      ...(asked.error_code ? { error_code: asked.error_code } : {}),
      ...(isoOf(asked.from) ? { from: isoOf(asked.from) } : {}),
      ...(isoOf(asked.to) ? { to: isoOf(asked.to) } : {}),
      limit: 500,
    };
    let total = 0;
    const done: Outcome[] = [];
    try {
      for (let round = 1; ; round += 1) {
        const { data } = await post<{ replayed: number; remaining: number }>("/dlq/replay", body);
        total += data.replayed;
        done.push({ id: `batch ${round}`, ok: true, text: `replayed ${data.replayed}, ${data.remaining} remaining` });
        setOutcomes([...done]);
        setProgress(`Replayed ${total}; ${data.remaining} still match`);
        if (data.remaining === 0 || data.replayed === 0) break;
      }
    } catch (error) {
      done.push({ id: "bulk", ok: false, text: describe(error) });
      setOutcomes([...done]);
    }
    setBusy(false);
    list.reload();
  };

  const discard = async () => {
    if (!confirm(`Discard ${selected.size} dead letter(s)? Their deliveries stay dead-lettered.`)) return;
    setBusy(true);
    const done: Outcome[] = [];
    for (const id of selected) {
      try {
        await del(`/dlq/${id}`);
        done.push({ id, ok: true, text: "discarded" });
      } catch (error) {
        done.push({ id, ok: false, text: describe(error) });
      }
    }
    setOutcomes(done);
    setSelected(new Set());
    setBusy(false);
    list.reload();
  };

  return (
    <>
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(filter);
        }}
        aria-label="Filter dead letters"
      >
        <Field label="Channel">
          <select name="channel" value={filter.channel} onChange={set("channel")}>
            <option value="">any</option>
            {CHANNELS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </Field>
        <Field label="Error code">
          <input name="error_code" value={filter.error_code} onInput={set("error_code")} />
        </Field>
        <Field label="From">
          <input name="from" type="datetime-local" value={filter.from} onInput={set("from")} />
        </Field>
        <Field label="To">
          <input name="to" type="datetime-local" value={filter.to} onInput={set("to")} />
        </Field>
        <Field label="Replayed">
          <select name="replayed" value={filter.replayed} onChange={set("replayed")}>
            <option value="false">not yet</option>
            <option value="true">already</option>
            <option value="">either</option>
          </select>
        </Field>
        <button type="submit">Filter</button>
      </form>
      {canWrite ? (
        <p class="toolbar">
          <button type="button" disabled={busy || selected.size === 0} onClick={() => void replaySelected()}>
            Replay selected ({selected.size})
          </button>
          <button type="button" disabled={busy} onClick={() => void replayMatching()}>
            Replay everything matching the filter
          </button>
          <button type="button" class="danger" disabled={busy || selected.size === 0} onClick={() => void discard()}>
            Discard selected
          </button>
        </p>
      ) : null}
      {progress ? <Notice>{progress}</Notice> : null}
      {outcomes.length > 0 ? (
        <section aria-labelledby="replay-h" class="panel">
          <h2 id="replay-h">What the last action did</h2>
          <ul class="plain" data-testid="replay-outcomes">
            {outcomes.map((o) => (
              <li key={o.id} class={o.ok ? "ok" : "bad"}>
                <code>{o.id}</code>: {o.text}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <ErrorNote error={list.error} />
      {!list.loading && items.length === 0 ? <Empty>No dead letter matches.</Empty> : null}
      <table hidden={items.length === 0}>
        <thead>
          <tr>
            {canWrite ? (
              <th scope="col">
                <span class="sr">Select</span>
              </th>
            ) : null}
            <th scope="col">Dead-lettered</th>
            <th scope="col">Channel</th>
            <th scope="col">Error</th>
            <th scope="col" class="num">
              Attempts
            </th>
            <th scope="col">Request</th>
            <th scope="col">Replayed</th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              {canWrite ? (
                <td>
                  <input type="checkbox" aria-label={`Select dead letter ${d.id}`} checked={selected.has(d.id)} onChange={() => toggle(d.id)} />
                </td>
              ) : null}
              <td>
                <a href={`#/dead-letters/id/${d.id}`}>{ago(d.created_at)}</a>
              </td>
              <td>{d.channel ?? "–"}</td>
              <td>
                <code>{d.error_code}</code> {d.error}
              </td>
              <td class="num">{d.attempts}</td>
              <td>{d.request_id ? <a href={`#/notifications/${d.request_id}`}>{d.request_id.slice(0, 13)}…</a> : "–"}</td>
              <td>{d.replayed_at ? `${ago(d.replayed_at)} (${d.replay_count}×)` : "no"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function DeadLetterView({ id, canWrite }: { id: string; canWrite: boolean }) {
  const item = useLoad(() => get<DeadLetterDetail>(`/dlq/${id}`), [id]);
  const [outcome, setOutcome] = useState<{ ok?: string; error?: unknown }>({});
  const replay = async () => {
    try {
      const { data } = await post<{ delivery_id: string; delivery_status: string; replay_count: number }>(`/dlq/${id}/replay`);
      setOutcome({ ok: `Replayed: delivery ${data.delivery_id} is ${data.delivery_status} again (replay #${data.replay_count})` });
      item.reload();
    } catch (error) {
      setOutcome({ error });
    }
  };
  const discard = async () => {
    if (!confirm("Discard this dead letter?")) return;
    try {
      await del(`/dlq/${id}`);
      navigate("dead-letters");
    } catch (error) {
      setOutcome({ error });
    }
  };
  const d = item.data;
  return (
    <>
      <p>
        <a href="#/dead-letters">← all dead letters</a>
      </p>
      <ErrorNote error={item.error} />
      {d ? (
        <>
          <h2>
            Dead letter <code>{d.id}</code>
          </h2>
          <dl class="facts">
            <dt>Error</dt>
            <dd>
              <code>{d.error_code}</code> {d.error}
            </dd>
            <dt>Channel</dt>
            <dd>{d.channel ?? "–"}</dd>
            <dt>Dead-lettered</dt>
            <dd>{time(d.created_at)}</dd>
            <dt>Request</dt>
            <dd>{d.request_id ? <a href={`#/notifications/${d.request_id}`}>{d.request_id}</a> : "–"}</dd>
            <dt>Delivery now</dt>
            <dd>{d.delivery ? <Status value={d.delivery.status} /> : "gone"}</dd>
            <dt>Replayed</dt>
            <dd>{d.replayed_at ? `${time(d.replayed_at)} (${d.replay_count}×)` : "no"}</dd>
          </dl>
          {canWrite ? (
            <p class="toolbar">
              <button type="button" onClick={() => void replay()}>
                Replay
              </button>
              <button type="button" class="danger" onClick={() => void discard()}>
                Discard
              </button>
            </p>
          ) : null}
          {outcome.ok ? <Notice>{outcome.ok}</Notice> : null}
          <ErrorNote error={outcome.error} />
          <h3>Every attempt</h3>
          <ol class="plain">
            {d.attempt_log.map((a) => (
              <li key={`${a.attempt}-${a.at}`}>
                {time(a.at)} attempt {a.attempt}: <code>{a.error_code}</code> {a.error} {a.retryable ? "(retryable)" : "(permanent)"}
              </li>
            ))}
          </ol>
          <h3>The original message</h3>
          <Json label="Message payload and headers" value={d.message} />
        </>
      ) : null}
    </>
  );
}
