import { clusterVersion, outage, realFault, serviceCommands, type Command, type RunResult } from "./service-faults";

/** A runner that runs nothing: it records each command and answers from a script. */
function fakeRunner(answer: (c: Command) => RunResult = () => ({ ok: true, output: "" })) {
  const ran: string[] = [];
  const runner = (c: Command) => {
    ran.push([c.command, ...c.args].join(" "));
    return Promise.resolve(answer(c));
  };
  return { ran, runner };
}

describe("the commands of a real service fault", () => {
  it("stops and starts PostgreSQL through pg_ctlcluster of the cluster under /etc/postgresql, and asks pg_isready", () => {
    const c = serviceCommands("postgres", () => "15");
    expect([c.stop.command, ...c.stop.args].join(" ")).toBe("pg_ctlcluster --skip-systemctl-redirect 15 main stop -m fast");
    expect([c.start.command, ...c.start.args].join(" ")).toBe("pg_ctlcluster --skip-systemctl-redirect 15 main start");
    expect([c.check!.command, ...c.check!.args].join(" ")).toBe("pg_isready -h 127.0.0.1 -p 5432");
  });

  it("shuts Redis down without saving and starts it as the launcher does", () => {
    const c = serviceCommands("redis");
    expect([c.stop.command, ...c.stop.args].join(" ")).toBe("redis-cli -h 127.0.0.1 -p 6379 shutdown nosave");
    expect(c.start).toEqual({ command: "redis-server", args: ["--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no"] });
  });

  it("restarts RabbitMQ with rabbitmqctl stop and rabbitmq-server -detached, checked by an AMQP connect", () => {
    const c = serviceCommands("rabbitmq");
    expect(c.stop).toEqual({ command: "rabbitmqctl", args: ["stop"] });
    expect(c.start).toEqual({ command: "rabbitmq-server", args: ["-detached"] });
    expect(c.check).toBeUndefined();
  });

  it("takes the newest cluster version, and refuses when there is none", () => {
    expect(clusterVersion(["9.6", "15", "13"])).toBe("15");
    expect(() => clusterVersion([])).toThrow(/no PostgreSQL cluster/);
  });
});

describe("an outage always brings the service back", () => {
  it("restores and checks the service after the hold, in that order", async () => {
    const { ran, runner } = fakeRunner((c) => ({ ok: true, output: c.command === "redis-cli" ? "PONG" : "" }));
    await outage(realFault("redis", { runner }), () => Promise.resolve(), { intervalMs: 1 });
    expect(ran).toEqual([
      "redis-cli -h 127.0.0.1 -p 6379 shutdown nosave",
      'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save  --appendonly no',
      "redis-cli -h 127.0.0.1 -p 6379 ping",
    ]);
  });

  it("restores the service when the drill fails (or is interrupted) while it is down, and keeps the drill's error", async () => {
    const { ran, runner } = fakeRunner();
    const fault = realFault("postgres", { runner, pgVersion: () => "15" });
    await expect(
      outage(fault, () => Promise.reject(new Error("aborted: SIGINT")), { intervalMs: 1 }),
    ).rejects.toThrow("aborted: SIGINT");
    expect(ran.slice(1)).toEqual(["pg_ctlcluster --skip-systemctl-redirect 15 main start", "pg_isready -h 127.0.0.1 -p 5432"]);
  });

  it("restores even when stopping failed half-way", async () => {
    const { ran, runner } = fakeRunner((c) => ({ ok: !c.args.includes("stop"), output: "stop: timed out" }));
    await expect(outage(realFault("postgres", { runner, pgVersion: () => "15" }), () => Promise.resolve(), { intervalMs: 1 })).rejects.toThrow(/stop -m fast failed/);
    expect(ran).toContain("pg_ctlcluster --skip-systemctl-redirect 15 main start");
  });

  it("waits until the service answers, and says loudly when it does not come back", async () => {
    let pings = 0;
    const { runner } = fakeRunner((c) => {
      if (c.args.includes("ping")) pings += 1;
      return { ok: true, output: c.args.includes("ping") && pings >= 3 ? "PONG" : "LOADING" };
    });
    await outage(realFault("redis", { runner }), () => Promise.resolve(), { intervalMs: 1 });
    expect(pings).toBe(3);

    const down = fakeRunner((c) => ({ ok: !c.args.includes("ping"), output: "Could not connect" }));
    await expect(outage(realFault("redis", { runner: down.runner }), () => Promise.resolve(), { answerTimeoutMs: 20, intervalMs: 1 })).rejects.toThrow(
      /redis does not answer .* bring it back by hand/,
    );
  });

  it("keeps waiting for RabbitMQ when starting it fails, and checks it with an AMQP connect", async () => {
    const { ran, runner } = fakeRunner((c) => ({ ok: c.command !== "rabbitmq-server", output: "node already running" }));
    let connects = 0;
    const amqpConnect = () => Promise.resolve((connects += 1) >= 2);
    await outage(realFault("rabbitmq", { runner, amqpConnect }), () => Promise.resolve(), { intervalMs: 1 });
    expect(ran).toEqual(["rabbitmqctl stop", "rabbitmq-server -detached"]);
    expect(connects).toBe(2);
  });
});
