// The README's walkthrough, run for real: `npm start` (already built by `npm run smoke`), send the
// welcome email to the seeded user Ada, find it in the dev inbox, check its status, then Ctrl-C
// and expect every process to stop cleanly. Used by .ci/run.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const gateway = "http://127.0.0.1:8000";
const deadline = (s) => Date.now() + s * 1000;

function fail(message) {
  console.error(`smoke: ${message}`);
  process.exitCode = 1;
}

async function portTaken(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

if (await portTaken(8000)) {
  console.error("smoke: port 8000 is taken (is `npm start` already running?)");
  process.exit(1);
}

const launcher = spawn(process.execPath, [path.join(root, "apps/launcher/dist/main.js")], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
let output = "";
launcher.stdout.on("data", (chunk) => (output += chunk.toString()));
const exited = new Promise((resolve) => launcher.once("exit", (code, signal) => resolve({ code, signal })));

try {
  const until = deadline(180);
  while (!output.includes("Herald is running")) {
    if (Date.now() > until) throw new Error("npm start did not come up within 180 s");
    if (launcher.exitCode !== null) throw new Error(`npm start exited early:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const key = fs.readFileSync(path.join(root, ".local", "dev-api-key"), "utf8").trim();
  const headers = { "X-API-Key": key, "Content-Type": "application/json" };
  const sent = await fetch(`${gateway}/notifications/send`, {
    method: "POST",
    headers,
    body: JSON.stringify({ user_id: "ada", channel: "email", template_id: "welcome_email", variables: { name: "Ada" } }),
  });
  const accepted = await sent.json();
  if (sent.status !== 202) throw new Error(`send answered ${sent.status}: ${JSON.stringify(accepted)}`);
  const deliveryId = accepted.data.deliveries[0].delivery_id;
  const inboxUntil = deadline(30);
  for (;;) {
    const inbox = await (await fetch(`${gateway}/sandbox/messages?channel=email`, { headers })).json();
    const mail = inbox.data.find((m) => m.delivery_id === deliveryId);
    if (mail) {
      if (mail.subject !== "Welcome, Ada!") throw new Error(`unexpected subject ${mail.subject}`);
      break;
    }
    if (Date.now() > inboxUntil) throw new Error("the welcome email did not reach the dev inbox");
    await new Promise((r) => setTimeout(r, 250));
  }
  const status = await (await fetch(`${gateway}/notifications/${accepted.data.request_id}`, { headers })).json();
  if (status.data.status !== "sent") throw new Error(`status is ${status.data.status}, expected sent`);
  console.log(`smoke: welcome email delivered to the dev inbox (request ${accepted.data.request_id})`);
} catch (error) {
  fail(error.message);
} finally {
  launcher.kill("SIGINT");
  const timer = setTimeout(() => launcher.kill("SIGKILL"), 30_000);
  const { code, signal } = await exited;
  clearTimeout(timer);
  if (code !== 0) fail(`npm start exited with ${code ?? signal} after Ctrl-C`);
  else console.log("smoke: Ctrl-C stopped everything cleanly");
}
