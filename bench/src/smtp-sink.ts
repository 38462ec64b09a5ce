// The SMTP provider of the email benchmarks: accepts every mail and counts it (and its Message-ID,
// to catch duplicates), keeps every arrival time (the burst's rate per tenth) and, for a mail whose
// subject carries a mark ("Welcome, m<run>-<n>!": the steady phase's sends), when that mark
// arrived. Runs in its own process; the parent asks over IPC.
import { SMTPServer } from "smtp-server";

const port = Number(process.argv[2] ?? 12525);
let count = 0;
let firstAt = 0;
let lastAt = 0;
const seen = new Set<string>();
let duplicates = 0;
let arrivals: number[] = [];
let marks: Record<string, number> = {};

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  onData(stream, _session, callback) {
    let head = "";
    stream.on("data", (chunk: Buffer) => {
      if (head.length < 4096) head += chunk.toString("latin1");
    });
    stream.on("end", () => {
      const now = Date.now();
      const id = /^message-id:\s*(\S+)/im.exec(head)?.[1];
      if (id) {
        if (seen.has(id)) duplicates += 1;
        seen.add(id);
      }
      const mark = /^subject:.*?\b(m[0-9a-z]+-\d+)\b/im.exec(head)?.[1];
      if (mark && marks[mark] === undefined) marks[mark] = now;
      count += 1;
      lastAt = now;
      arrivals.push(now);
      if (count === 1) firstAt = lastAt;
      callback();
    });
  },
});
server.listen(port, "127.0.0.1", () => process.send?.({ ready: true }));
process.on("message", (message: { cmd: string }) => {
  if (message.cmd === "count") process.send?.({ count, firstAt, lastAt, duplicates });
  if (message.cmd === "arrivals") process.send?.(arrivals);
  if (message.cmd === "marks") process.send?.(marks);
  if (message.cmd === "reset") {
    count = 0;
    firstAt = 0;
    lastAt = 0;
    duplicates = 0;
    seen.clear();
    arrivals = [];
    marks = {};
    process.send?.({ reset: true });
  }
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
