import type { Drill, RunSettings } from "../drill";
import { ALL_CHANNELS } from "../load";
import { outage, type ServiceName } from "../service-faults";
import { nothingDeadLettered } from "./common";

const RATE = 10;

interface ServiceDrill {
  name: string;
  service: ServiceName;
  what: string;
  short: boolean;
  /** How long the service stays away (real form: RabbitMQ is restarted, which takes what it takes). */
  holdS: (settings: RunSettings) => number;
}

/**
 * A shared service taken away while sends flow at 10/s on every channel, then given back: the
 * real service stopped and started (--services=real), or a TCP proxy in front of it cut and
 * restored (the default, and always in the short form). Everything accepted must be delivered.
 */
function serviceDrill({ name, service, what, short, holdS }: ServiceDrill): Drill {
  const sends = (settings: RunSettings) => RATE * (holdS(settings) + 12);
  return {
    name,
    summary: `Sends at ${RATE}/s on every channel; ${what}; everything accepted must be delivered, nothing dead-lettered.`,
    short,
    service,
    sends: RATE * 60,
    channels: ALL_CHANNELS,
    deadlineS: (settings) => holdS(settings) + (settings.short ? 120 : 180),
    async run(ctx) {
      const hold = holdS(ctx.settings) * 1000;
      const stream = ctx.load.stream({ count: sends(ctx.settings), perSecond: RATE, channels: ALL_CHANNELS, signal: ctx.signal });
      await ctx.sleep(4000);
      const cut = Date.now();
      ctx.faultEnd = await outage(ctx.fault!, () => ctx.sleep(hold));
      ctx.notes.push(`${service} (${ctx.fault!.form}) away from +0 to +${((ctx.faultEnd - cut) / 1000).toFixed(1)} s (held ${hold / 1000} s, then restored and answering)`);
      await stream;
    },
    checks: (_ctx, tally) => Promise.resolve([nothingDeadLettered(tally)]),
  };
}

export const rabbitmqRestart = serviceDrill({
  name: "rabbitmq-restart",
  service: "rabbitmq",
  what: "RabbitMQ restarted (real: `rabbitmqctl stop`, `rabbitmq-server -detached`; proxy: every connection cut, refused for 10 s short / 20 s full)",
  short: false,
  holdS: (s) => (s.services === "real" ? 0 : s.short ? 10 : 20),
});

export const postgresStop = serviceDrill({
  name: "postgres-stop",
  service: "postgres",
  what: "PostgreSQL stopped for 15 s (real: `pg_ctlcluster ... stop -m fast` / start; proxy: every connection cut, refused)",
  short: true,
  holdS: () => 15,
});

export const redisDown = serviceDrill({
  name: "redis-down",
  service: "redis",
  what: "Redis down for 20 s (10 s short) (real: `redis-cli shutdown nosave` / `redis-server --daemonize yes ...`; proxy: cut, refused)",
  short: false,
  holdS: (s) => (s.short ? 10 : 20),
});
