import type { Pool } from "pg";
import { BrokerStats, type QueueStat } from "./broker-stats";
import { Cached } from "./cached";
import { breakerSummary, DatabaseFigures, type BreakerState, type MinuteRate, type WorkerInstanceView } from "./figures";

/** GET /overview: what an operator looks at first. */
export interface OverviewView {
  at: string;
  rates: MinuteRate[];
  /** null: the broker's management API did not answer (queues_error says why). */
  queues: QueueStat[] | null;
  queues_error?: string;
  outbox: { pending: number; oldest_age_seconds: number | null };
  backlog: { scheduled: number; held: number };
  dead_letters: { total: number; by_error_code: { error_code: string; channel: string | null; count: number }[] };
  workers: WorkerInstanceView[];
  breakers: { provider: string; state: BreakerState; instances: Record<BreakerState, number> }[];
}

/**
 * The overview figures, each read at most once per few seconds however many consoles and
 * scrapes ask (the same cached reads feed /metrics: see gauges.ts).
 */
export class Overview {
  readonly figures: DatabaseFigures;
  readonly broker: BrokerStats;
  readonly outbox: Cached<OverviewView["outbox"]>;
  readonly backlog: Cached<OverviewView["backlog"]>;
  readonly deadLetters: Cached<OverviewView["dead_letters"]["by_error_code"]>;
  readonly instances: Cached<WorkerInstanceView[]>;
  private readonly rates: Cached<MinuteRate[]>;

  constructor(pool: Pool, options: { managementUrl: string; amqpUrl: string; ttlMs?: number }) {
    const ttl = options.ttlMs ?? 5000;
    this.figures = new DatabaseFigures(pool);
    this.broker = new BrokerStats(options.managementUrl, options.amqpUrl, ttl);
    this.outbox = new Cached(() => this.figures.outbox(), ttl);
    this.backlog = new Cached(() => this.figures.releaseBacklog(), ttl);
    this.deadLetters = new Cached(() => this.figures.openDeadLetters(), ttl);
    this.instances = new Cached(() => this.figures.liveInstances(), Math.min(ttl, 2000));
    this.rates = new Cached(() => this.figures.ratesLastHour(), ttl);
  }

  async read(): Promise<OverviewView> {
    const [rates, queues, outbox, backlog, dead, workers] = await Promise.all([
      this.rates.get(),
      this.broker.queues().then(
        (q) => ({ q, error: undefined }),
        (error: unknown) => ({ q: null, error: error instanceof Error ? error.message : String(error) }),
      ),
      this.outbox.get(),
      this.backlog.get(),
      this.deadLetters.get(),
      this.instances.get(),
    ]);
    return {
      at: new Date().toISOString(),
      rates,
      queues: queues.q,
      ...(queues.error ? { queues_error: queues.error } : {}),
      outbox,
      backlog,
      dead_letters: { total: dead.reduce((n, d) => n + d.count, 0), by_error_code: dead },
      workers,
      breakers: breakerSummary(workers),
    };
  }
}
