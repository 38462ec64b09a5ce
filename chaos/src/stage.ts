import path from "node:path";
import { Broker } from "./broker";
import type { Drill, RunSettings } from "./drill";
import { createTemplates, createUsers, usersFor } from "./load";
import { Receivers } from "./receivers";
import { proxyFault, realFault, waitUntilAnswers, type ServiceFault, type ServiceName } from "./service-faults";
import { System, systemEnv, type ServiceTargets } from "./system";
import { createWorld, serviceUrls, throughPort, withVhost, type World } from "./world";

/**
 * What drills run on: a world (database, vhost, key prefix), the receivers, the whole system
 * started as `npm start` starts it (through a proxy for each service a drill cuts in form (b)),
 * the harness's broker connection, the drill template and its users. The full form gives every
 * drill a stage of its own; the short form runs its few drills on one (starting the system takes
 * ~30 s on this machine, and the short form must stay under 5 minutes).
 */
export interface Stage {
  name: string;
  world: World;
  faults: Map<ServiceName, ServiceFault>;
  receivers: Receivers;
  system: System;
  broker: Broker;
  users: string[];
  /** The environment of every process of the system. */
  env: Record<string, string>;
  /** Environment beyond the drill defaults (what the results say). */
  overrides: Record<string, string>;
  logFile: string;
  /** Several drills run on it (their log lines are told apart by time). */
  shared: boolean;
  startS: number;
}

/** The drills' environments merged; two drills that want different values cannot share a stage. */
export function mergedEnv(drills: Drill[], settings: RunSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const drill of drills) {
    for (const [key, value] of Object.entries(drill.env?.(settings) ?? {})) {
      if (env[key] !== undefined && env[key] !== value) throw new Error(`${drill.name} wants ${key}=${value}, another drill of its stage ${env[key]}`);
      env[key] = value;
    }
  }
  return env;
}

function targets(world: World, faults: Map<ServiceName, ServiceFault>): ServiceTargets {
  const urls = serviceUrls();
  const through = (service: ServiceName, url: string) => {
    const fault = faults.get(service);
    return fault?.form === "proxy" ? throughPort(url, fault.port) : url;
  };
  return {
    databaseUrl: through("postgres", world.databaseUrl),
    redisUrl: through("redis", urls.redis),
    redisPrefix: world.redisPrefix,
    rabbitmqUrl: through("rabbitmq", withVhost(urls.rabbitmq, world.vhost)),
    managementUrl: urls.management,
  };
}

/** Builds a stage step by step; on a failure, closes what was opened and rethrows. */
export async function openStage(name: string, drills: Drill[], settings: RunSettings, run: string, template: string, logDir: string): Promise<Stage> {
  const started = Date.now();
  const overrides = mergedEnv(drills, settings);
  const logFile = path.join(logDir, `${name}.log`);
  const partial: Partial<Stage> = { name, faults: new Map(), overrides, logFile, shared: drills.length > 1 };
  try {
    partial.world = await createWorld(run, name, template);
    for (const service of new Set(drills.flatMap((d) => (d.service ? [d.service] : [])))) {
      const fault = settings.services === "real" ? realFault(service) : proxyFault(service);
      partial.faults!.set(service, fault);
      if (fault.form === "proxy") await fault.restore();
    }
    partial.receivers = new Receivers(partial.world.pool);
    await partial.receivers.start();
    partial.env = systemEnv(targets(partial.world, partial.faults!), overrides);
    partial.system = new System(partial.env, logFile);
    await partial.system.start();
    partial.broker = await Broker.open(withVhost(serviceUrls().rabbitmq, partial.world.vhost), serviceUrls().management, partial.world.vhost);
    await createTemplates();
    partial.users = await createUsers(usersFor(drills.reduce((n, d) => n + d.sends, 0)), partial.receivers.webhookUrl());
    partial.startS = (Date.now() - started) / 1000;
    return partial as Stage;
  } catch (error) {
    await closeStage(partial);
    throw error;
  }
}

/**
 * Stops and removes everything of a stage, each step whatever the others did: the system's
 * processes, the receivers, the proxies, the database, the vhost and the Redis keys; a real
 * service a drill took away is checked to answer (and started again if it does not).
 */
export async function closeStage(stage: Partial<Stage>): Promise<string[]> {
  const problems: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown> | undefined) => {
    try {
      await fn();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await step("closing the broker connection", () => stage.broker?.close());
  await step("stopping the system", () => stage.system?.stop());
  await step("stopping the receivers", () => stage.receivers?.stop());
  for (const fault of stage.faults?.values() ?? []) {
    if (fault.form === "real") {
      await step(`checking ${fault.service} answers`, async () => {
        if (!(await fault.answers())) await fault.restore();
        await waitUntilAnswers(fault, 180_000);
      });
    }
    await step(`closing the ${fault.service} fault`, () => fault.close());
  }
  await step("removing the database, vhost and keys", () => stage.world?.close());
  return problems;
}
