import type { MinuteRate } from "./types";

/**
 * Sends (and failed attempts) per minute over the last hour for one channel/provider, as SVG
 * bars: 60 columns, failures stacked in another colour. A table of the same numbers sits beside
 * it for screen readers.
 */
export function RateChart({ rates, title, now }: { rates: MinuteRate[]; title: string; now: number }) {
  const start = Math.floor(now / 60_000) * 60_000 - 59 * 60_000;
  const columns = Array.from({ length: 60 }, (_, i) => ({ t: start + i * 60_000, sent: 0, failed: 0 }));
  for (const r of rates) {
    const i = Math.round((new Date(r.minute).getTime() - start) / 60_000);
    const column = columns[i];
    if (column) {
      column.sent += r.sent;
      column.failed += r.failed;
    }
  }
  const max = Math.max(1, ...columns.map((c) => c.sent + c.failed));
  const total = columns.reduce((n, c) => ({ sent: n.sent + c.sent, failed: n.failed + c.failed }), { sent: 0, failed: 0 });
  const h = 60;
  return (
    <figure class="chart">
      <figcaption>
        <strong>{title}</strong> — {total.sent} sent, {total.failed} failed attempts in the last hour (peak {max}/min)
      </figcaption>
      <svg viewBox={`0 0 240 ${h}`} role="img" aria-label={`${title}: ${total.sent} sent and ${total.failed} failed in the last hour`} preserveAspectRatio="none">
        {columns.map((c, i) => {
          const sentH = (c.sent / max) * h;
          const failedH = (c.failed / max) * h;
          return (
            <g key={c.t}>
              <rect class="bar-sent" x={i * 4} y={h - sentH} width={3} height={sentH} />
              <rect class="bar-failed" x={i * 4} y={h - sentH - failedH} width={3} height={failedH} />
            </g>
          );
        })}
      </svg>
      <div class="axis" aria-hidden="true">
        <span>−60 min</span>
        <span>now</span>
      </div>
    </figure>
  );
}
