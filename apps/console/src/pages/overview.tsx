import { useState } from "preact/hooks";
import { get } from "../api";
import type { PageProps } from "../router";
import { RateChart } from "../chart";
import { ago, duration } from "../format";
import type { Overview } from "../types";
import { Empty, ErrorNote, Status, useInterval, useLoad } from "../ui";

/** What is happening now: rates, queues, backlog, dead letters, workers and breakers; refreshes every 5 s. */
export function OverviewPage(_: PageProps) {
  const { data, error, reload } = useLoad(() => get<Overview>("/overview"), []);
  const [auto, setAuto] = useState(true);
  const [showDelays, setShowDelays] = useState(false);
  useInterval(reload, auto ? 5000 : null);
  if (!data) return error ? <ErrorNote error={error} /> : <p>Loading…</p>;
  const now = new Date(data.at).getTime();
  const series = new Map<string, typeof data.rates>();
  for (const r of data.rates) {
    const key = `${r.channel} · ${r.provider || "no provider"}`;
    series.set(key, [...(series.get(key) ?? []), r]);
  }
  return (
    <>
      <p class="toolbar">
        <span>Figures at {new Date(data.at).toLocaleTimeString()}</span>
        <label class="inline">
          <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.currentTarget.checked)} /> refresh every 5 s
        </label>
        <button type="button" onClick={reload}>
          Refresh now
        </button>
      </p>
      <ErrorNote error={error} />
      <section class="cards" aria-label="Backlog">
        <div class="card">
          <h2>Outbox</h2>
          <p class="big" data-testid="outbox-pending">{data.outbox.pending}</p>
          <p>rows waiting for a broker confirm; oldest {duration(data.outbox.oldest_age_seconds)}</p>
        </div>
        <div class="card">
          <h2>Waiting for release</h2>
          <p class="big">{data.backlog.scheduled + data.backlog.held}</p>
          <p>
            {data.backlog.scheduled} scheduled, {data.backlog.held} held (quiet hours)
          </p>
        </div>
        <div class="card">
          <h2>Dead letters</h2>
          <p class="big" data-testid="dlq-total">{data.dead_letters.total}</p>
          <p>
            not replayed · <a href="#/dead-letters">open the dead letters</a>
          </p>
        </div>
        <div class="card">
          <h2>Worker instances</h2>
          <p class="big" data-testid="workers-alive">{data.workers.length}</p>
          <p>alive (heartbeat in the last 15 s)</p>
        </div>
      </section>

      <section aria-labelledby="rates-h">
        <h2 id="rates-h">Sends per minute, last hour</h2>
        {series.size === 0 ? <Empty>Nothing sent or failed in the last hour.</Empty> : null}
        <div class="charts">
          {[...series].map(([title, rates]) => (
            <RateChart key={title} title={title} rates={rates} now={now} />
          ))}
        </div>
        <p class="legend" aria-hidden="true">
          <span class="key-sent" /> sent <span class="key-failed" /> failed attempts
        </p>
      </section>

      <div class="split">
        <section aria-labelledby="breakers-h">
          <h2 id="breakers-h">Circuit breakers</h2>
          {data.breakers.length === 0 ? <Empty>No worker reports a breaker.</Empty> : null}
          <ul class="plain">
            {data.breakers.map((b) => (
              <li key={b.provider}>
                <strong>{b.provider}</strong> <Status value={b.state} />{" "}
                <small>
                  ({Object.entries(b.instances)
                    .filter(([, n]) => n > 0)
                    .map(([s, n]) => `${n} ${s.replace("_", " ")}`)
                    .join(", ")}
                  )
                </small>
              </li>
            ))}
          </ul>
        </section>
        <section aria-labelledby="dlq-h">
          <h2 id="dlq-h">Dead letters by error code</h2>
          {data.dead_letters.by_error_code.length === 0 ? <Empty>None.</Empty> : (
          <table>
            <thead>
              <tr>
                <th scope="col">Error code</th>
                <th scope="col">Channel</th>
                <th scope="col" class="num">
                  Count
                </th>
              </tr>
            </thead>
            <tbody>
              {data.dead_letters.by_error_code.map((d) => (
                <tr key={`${d.error_code}-${d.channel}`}>
                  <td>
                    <a href={`#/dead-letters/${encodeURIComponent(d.error_code)}`}>{d.error_code}</a>
                  </td>
                  <td>{d.channel ?? "–"}</td>
                  <td class="num">{d.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
        </section>
      </div>

      <section aria-labelledby="queues-h">
        <h2 id="queues-h">Queues</h2>
        {data.queues === null ? <p class="error">The broker's management API did not answer: {data.queues_error}</p> : null}
        <table>
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col" class="num">
                Ready
              </th>
              <th scope="col" class="num">
                Unacked
              </th>
              <th scope="col" class="num">
                Consumers
              </th>
              <th scope="col" class="num">
                Oldest message
              </th>
            </tr>
          </thead>
          <tbody>
            {(data.queues ?? []).filter((q) => showDelays || !q.queue.includes(".retry.")).map((q) => (
              <tr key={q.queue} class={q.consumers === 0 && !q.queue.includes(".retry.") && q.queue !== "failed.queue" ? "warn" : undefined}>
                <td>{q.queue}</td>
                <td class="num">{q.ready}</td>
                <td class="num">{q.unacked}</td>
                <td class="num">{q.consumers}</td>
                <td class="num">{duration(q.oldest_age_seconds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <label class="inline">
          <input type="checkbox" checked={showDelays} onChange={(e) => setShowDelays(e.currentTarget.checked)} /> show the retry delay queues
        </label>
      </section>

      <section aria-labelledby="workers-h">
        <h2 id="workers-h">Worker instances</h2>
        {data.workers.length === 0 ? <Empty>No live worker instance.</Empty> : null}
        <table>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Host / pid</th>
              <th scope="col">Queue</th>
              <th scope="col">Consuming</th>
              <th scope="col" class="num">
                In flight
              </th>
              <th scope="col">Breakers</th>
              <th scope="col">Heartbeat</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {data.workers.map((w) => (
              <tr key={w.id}>
                <td>{w.service}</td>
                <td>
                  {w.host} / {w.pid}
                </td>
                <td>{w.info.queue ?? "–"}</td>
                <td>{w.info.consuming === undefined ? "–" : w.info.consuming ? "yes" : `no${w.info.reason ? ` (${w.info.reason})` : ""}`}</td>
                <td class="num">{w.info.in_flight ?? "–"}</td>
                <td>
                  {Object.entries(w.info.breakers ?? {}).map(([p, s]) => (
                    <span key={p} class="pair">
                      {p} <Status value={s} />
                    </span>
                  ))}
                </td>
                <td>{ago(w.heartbeat_at, now)}</td>
                <td>{ago(w.started_at, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
