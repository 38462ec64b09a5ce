import type { DrillResult } from "./drill";

export interface RunReport {
  at: Date;
  form: "full" | "short";
  services: string;
  machine: Record<string, string>;
  durationS: number;
  drills: DrillResult[];
}

const codes = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ") || "0";
const seconds = (s: number | null | undefined) => (s === null || s === undefined ? "–" : s.toFixed(1));

/** One row per drill: the counts the verdict is made of. */
export function table(drills: DrillResult[]): string {
  const lines = [
    "| drill | faults via | accepted | answers other than 202 | delivered | twice (allowed) | dead-lettered | lost | stuck | wrong status | next delivery after the fault, s | drained, s | verdict |",
    "|---|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const d of drills) {
    const t = d.tally;
    if (!t) {
      lines.push(`| ${d.name} | ${d.form} | – | – | – | – | – | – | – | – | – | – | **${d.verdict}** (${(d.error ?? "").split("\n")[0]}) |`);
      continue;
    }
    const verdict = d.verdict === "pass" ? "pass" : `**${d.verdict}**: ${d.failures.join("; ")}`;
    lines.push(
      `| ${d.name} | ${d.form} | ${t.accepted} of ${t.sent} | ${codes(t.answers)} | ${t.delivered} | ${t.twice} (${t.twiceAllowed}) | ${codes(t.deadLettered)} | ${t.lost} | ${t.stuck} | ${t.wrongStatus} | ${seconds(t.firstAfterFaultS)} | ${seconds(t.drainedS)} | ${verdict} |`,
    );
  }
  return lines.join("\n");
}

function details(d: DrillResult): string {
  const out = [`### ${d.name}: ${d.verdict}`, "", d.summary, ""];
  const env = Object.entries(d.env);
  out.push(`Started ${d.startedAt}, ${d.durationS} s. ${env.length > 0 ? `Environment beyond the drill defaults: ${env.map(([k, v]) => `\`${k}=${v}\``).join(", ")}.` : "No environment beyond the drill defaults."} Log: \`${d.logFile}\`.`, "");
  if (d.error) out.push("Error:", "", "```", d.error, "```", "");
  for (const n of d.notes) out.push(`- ${n}`);
  for (const c of d.checks) out.push(`- check "${c.name}": ${c.ok ? "ok" : "FAILED"}, ${c.detail}`);
  if (d.tally) {
    const per = Object.entries(d.tally.byChannel).map(
      ([ch, c]) => `${ch}: ${c.accepted} accepted, ${c.delivered} delivered, ${c.twice} twice (allowed ${c.twiceAllowed}), dead-lettered ${codes(c.deadLettered)}, ${c.lost} lost, ${c.stuck} stuck, ${c.wrongStatus} wrong status`,
    );
    for (const p of per) out.push(`- ${p}`);
    const s = d.tally.samples;
    for (const kind of ["lost", "stuck", "twice", "wrongStatus"] as const) if (s[kind].length > 0) out.push(`- ${kind} (first ${s[kind].length}): ${s[kind].join(", ")}`);
  }
  if (d.verdict !== "pass" && d.evidence) {
    out.push("", "Evidence at the end of the drill:", "");
    out.push(`- deliveries in PostgreSQL by status: ${codes(d.evidence.statuses)}`);
    for (const [name, h] of Object.entries(d.evidence.health)) out.push(`- ${name} /health: \`${JSON.stringify(h)}\``);
    for (const [name, r] of Object.entries(d.evidence.ready)) out.push(`- ${name} /health/ready: \`${JSON.stringify(r)}\``);
    if (d.evidence.log.length > 0) {
      out.push("", "| process | level | log message | count | first |", "|---|---|---|---:|---|");
      for (const l of d.evidence.log) out.push(`| ${l.service} | ${l.level} | ${l.message.replace(/\|/g, "\\|").slice(0, 160)} | ${l.count} | ${l.first} |`);
    }
  }
  out.push("");
  return out.join("\n");
}

export function toMarkdown(report: RunReport): string {
  const passed = report.drills.filter((d) => d.verdict === "pass").length;
  return [
    `# Fault drills ${report.at.toISOString()} (${report.form} form)`,
    "",
    `Machine: ${Object.values(report.machine).join("; ")}. Service faults via ${report.services === "real" ? "the real services (form a)" : "a TCP proxy in front of each service (form b)"}. ${passed} of ${report.drills.length} drills passed in ${Math.round(report.durationS)} s.`,
    "",
    "Counted at the receiving end (SMTP sink, sandbox store, webhook receiver) and through GET /notifications/:id. Lost: accepted, never received, not dead-lettered (a stuck one that never arrived is lost too). Stuck: not final when the drill's deadline passed. Wrong status: the API contradicts the receiver. Twice (allowed): deliveries received more than once, and how many the on-the-wire policy allows (for a `resend` channel what the killed worker had claimed, at most its provider connections; 0 otherwise).",
    "",
    table(report.drills),
    "",
    "## Each drill",
    "",
    ...report.drills.map(details),
  ].join("\n");
}

export function toJson(report: RunReport): unknown {
  return { ...report, at: report.at.toISOString() };
}
