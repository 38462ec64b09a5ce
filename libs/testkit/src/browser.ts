import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { processEnv } from "@herald/config";
import { ROOT } from "./names";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Chromium's flags for a headless run on a machine with no network but loopback: no sandbox
 * (root), no GPU, and nothing that phones home at start (background networking, component
 * updates, sync, QUIC).
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];

/** Debian's chromium, installed by scripts/ensure-chromium.sh when missing (never a downloaded browser). */
export function ensureChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  const result = spawnSync("bash", [path.join(ROOT, "scripts", "ensure-chromium.sh")], { encoding: "utf8", timeout: 600_000 });
  if (result.status !== 0 || !fs.existsSync(CHROMIUM)) {
    throw new Error(`chromium could not be installed (apt-get install -y chromium): ${`${result.stdout}${result.stderr}`.trim().slice(-500)}`);
  }
}

/** The console's build (apps/console/dist), made when missing or older than its sources. */
export function ensureConsoleBuilt(): void {
  const app = path.join(ROOT, "apps", "console");
  const built = path.join(app, "dist", "index.html");
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((t, e) => Math.max(t, e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs), 0);
  const sources = Math.max(newest(path.join(app, "src")), fs.statSync(path.join(app, "index.html")).mtimeMs, fs.statSync(path.join(app, "vite.config.ts")).mtimeMs);
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= sources) return;
  const result = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "--logLevel", "warn"], {
    cwd: app,
    encoding: "utf8",
    timeout: 300_000,
    // The bundle users get: under jest NODE_ENV is "test", which would build Preact's debug code in.
    env: { ...processEnv(), NODE_ENV: "production" },
  });
  if (result.status !== 0) throw new Error(`the console did not build: ${`${result.stdout}${result.stderr}`.trim().slice(-1000)}`);
}

/** A fresh, empty profile folder for one browser run; removed by the caller. */
export function freshProfile(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "herald-chromium-"));
}
