import { fork, spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");

/** A helper process of this benchmark (bench/dist/<name>.js), resolved once it says it is ready. */
export async function forkReady(name: string, args: string[]): Promise<ChildProcess> {
  const child = fork(path.join(__dirname, `${name}.js`), args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  // A helper that died (a Ctrl-C reaches the whole process group) fails the ask() to it, which
  // the run's cleanup survives; unhandled, the IPC error would end the run before its cleanup.
  child.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return child;
}

export function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve, reject) => {
    if (!child.connected) return reject(new Error(`${cmd}: the helper process is gone`));
    child.once("message", (m) => resolve(m as T));
    child.send({ cmd }, (error) => error && reject(error));
  });
}

/** One of the platform's processes, from its bundle, with the given environment. */
export function startApp(app: string, env: Record<string, string>, nodeFlags: string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, path.join(ROOT, "apps", app, "dist", "main.js")], {
    cwd: ROOT,
    env,
    // stdout is read (not shown): its last lines are printed if the process dies on its own.
    stdio: ["ignore", "pipe", "inherit"],
  });
}

export async function waitReady(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`process on :${port} not ready after ${timeoutMs} ms`);
}

export async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
  });
}

/** A loopback port nobody listens on now (another helper may be running a bench too). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
