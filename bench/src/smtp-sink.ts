// The SMTP provider of the email benchmark: accepts every mail and counts it (and its Message-ID,
// to catch duplicates). Runs in its own process; the parent asks for the count over IPC.
import { SMTPServer } from "smtp-server";

const port = Number(process.argv[2] ?? 12525);
let count = 0;
let firstAt = 0;
let lastAt = 0;
const seen = new Set<string>();
let duplicates = 0;

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
      const id = /^message-id:\s*(\S+)/im.exec(head)?.[1];
      if (id) {
        if (seen.has(id)) duplicates += 1;
        seen.add(id);
      }
      count += 1;
      lastAt = Date.now();
      if (count === 1) firstAt = lastAt;
      callback();
    });
  },
});
server.listen(port, "127.0.0.1", () => process.send?.({ ready: true }));
process.on("message", (message: { cmd: string }) => {
  if (message.cmd === "count") process.send?.({ count, firstAt, lastAt, duplicates });
  if (message.cmd === "reset") {
    count = 0;
    firstAt = 0;
    lastAt = 0;
    duplicates = 0;
    seen.clear();
    process.send?.({ reset: true });
  }
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
