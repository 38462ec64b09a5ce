import type { Pool, PoolClient } from "pg";
import { Batcher, prepared, withTransaction } from "@herald/db";
import { PeriodicJob } from "@herald/jobs";
import type { AmqpLogger } from "./connection";
import { deliveryOutgoing, type DeliveryEnvelope } from "./message";
import type { ConfirmPublisher, OutgoingMessage } from "./publisher";

export interface StoredOutgoing extends OutgoingMessage {
  outboxId: string;
}

/**
 * Other writes that must commit with the outbox rows, as data-modifying CTEs of the same
 * statement: `statements[i]` is the body of `WITH w<i> AS (...)`, with placeholders $1..$n
 * numbering `params`. One statement is one round trip and atomic without BEGIN/COMMIT.
 */
export interface AlongsideWrites {
  statements: string[];
  params: unknown[];
}

/**
 * Writes messages into the outbox (inside the caller's transaction, or together with `alongside`
 * in one statement): one multi-row INSERT from a JSON array. Returns them with their outbox ids,
 * in order.
 */
export async function insertOutbox(
  client: PoolClient | Pool,
  messages: OutgoingMessage[],
  alongside: AlongsideWrites = { statements: [], params: [] },
): Promise<StoredOutgoing[]> {
  if (messages.length === 0 && alongside.statements.length === 0) return [];
  const ctes = alongside.statements.map((sql, i) => `w${i} AS (${sql})`);
  const param = alongside.params.length + 1;
  const { rows } = await client.query<{ id: string }>(
    prepared(
      `${ctes.length > 0 ? `WITH ${ctes.join(",\n")}\n` : ""}INSERT INTO outbox (exchange, routing_key, payload, headers, priority)
       SELECT m.v->>'exchange', m.v->>'routing_key', m.v->'payload', m.v->'headers', (m.v->>'priority')::int
         FROM jsonb_array_elements($${param}::jsonb) WITH ORDINALITY AS m(v, n)
        ORDER BY m.n
       RETURNING id`,
      [
        ...alongside.params,
        JSON.stringify(
          messages.map((m) => ({ exchange: m.exchange, routing_key: m.routingKey, payload: m.body, headers: m.headers ?? {}, priority: m.priority ?? 0 })),
        ),
      ],
    ),
  );
  // Ids are drawn from the sequence in insertion order, which follows ORDER BY n.
  const ids = rows.map((r) => BigInt(r.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return messages.map((m, i) => ({ ...m, outboxId: String(ids[i]) }));
}

/**
 * Publishes committed outbox entries with broker confirms and deletes them once confirmed.
 * Deletes are batched: one DELETE per flush for everything confirmed since the last one.
 * What is not confirmed stays in the outbox for the relay.
 */
export class OutboxPublisher {
  /** The calls of one turn of the event loop: one publishAll, one wait for confirms. */
  private readonly publishes: Batcher<StoredOutgoing[], number>;
  /** Confirmed rows, deleted by one DELETE per flushDelay. */
  private readonly deletes: Batcher<string, void>;

  constructor(
    pool: Pool,
    private readonly publisher: ConfirmPublisher,
    private readonly logger: AmqpLogger,
    flushDelayMs = 50,
  ) {
    this.publishes = new Batcher((calls) => this.publishAll(calls), { maxBatch: Infinity });
    this.deletes = new Batcher(
      (ids) =>
        pool
          .query(prepared("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [ids]))
          .then(() => ids.map(() => undefined))
          .catch((error: unknown) => {
            // The rows stay and the relay republishes them: a duplicate the workers drop, never a loss.
            this.logger.warn("could not delete confirmed outbox rows", { count: ids.length, error: String(error) });
            return ids.map(() => undefined);
          }),
      { windowMs: flushDelayMs, maxBatch: Infinity, maxConcurrent: 1 },
    );
  }

  /**
   * Publishes and waits for the confirms; resolves to how many were confirmed and never throws
   * (the relay takes over what fails). The calls of one turn of the event loop (every request a
   * writer batch has just committed) go out as one batch with one wait for their confirms.
   */
  publish(messages: StoredOutgoing[]): Promise<number> {
    if (messages.length === 0) return Promise.resolve(0);
    return this.publishes.call(messages);
  }

  private async publishAll(calls: StoredOutgoing[][]): Promise<number[]> {
    const messages = calls.flat();
    const results = await this.publisher.publishAll(messages);
    let offset = 0;
    const confirmed = calls.map((call) => {
      const mine = results.slice(offset, offset + call.length);
      offset += call.length;
      let count = 0;
      mine.forEach((result, i) => {
        if (result.status !== "fulfilled") return;
        count += 1;
        void this.deletes.call(call[i]!.outboxId);
      });
      return count;
    });
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0) {
      const reason: unknown = failed[0]!.reason;
      this.logger.warn("publish not confirmed; the outbox relay will retry", {
        unconfirmed: failed.length,
        error: reason instanceof Error ? reason.message : String(reason),
      });
    }
    return confirmed;
  }

  /** Deletes what has been confirmed so far; used at shutdown. */
  async flush(): Promise<void> {
    await this.deletes.drain();
  }
}

export interface OutboxRelayOptions {
  intervalMs: number;
  /** Only rows older than this: younger ones are still being published by whoever wrote them. */
  afterMs: number;
  batchSize?: number;
}

/**
 * Republishes outbox rows that nobody confirmed (the writer crashed, or the broker was away).
 * Safe to run in every gateway replica: rows are claimed with FOR UPDATE SKIP LOCKED.
 */
export class OutboxRelay {
  private readonly job: PeriodicJob;

  constructor(
    private readonly pool: Pool,
    private readonly publisher: ConfirmPublisher,
    private readonly logger: AmqpLogger,
    private readonly options: OutboxRelayOptions,
  ) {
    this.job = new PeriodicJob({
      name: "outbox relay",
      intervalMs: options.intervalMs,
      logger,
      run: async () => {
        await this.runOnce();
      },
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass; returns how many rows were published and deleted. */
  async runOnce(): Promise<number> {
    if (!this.publisher.isReady) return 0;
    const done = await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{
        id: string;
        exchange: string;
        routing_key: string;
        payload: unknown;
        headers: Record<string, unknown>;
        priority: number;
      }>(
        `SELECT id, exchange, routing_key, payload, headers, priority FROM outbox
         WHERE created_at < now() - make_interval(secs => $1::float8 / 1000)
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [this.options.afterMs, this.options.batchSize ?? 500],
      );
      const results = await this.publisher.publishAll(
        rows.map((r) => ({ exchange: r.exchange, routingKey: r.routing_key, body: r.payload, headers: r.headers, priority: r.priority })),
      );
      const confirmed = rows.filter((_, i) => results[i]?.status === "fulfilled").map((r) => r.id);
      if (confirmed.length > 0) await client.query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [confirmed]);
      return confirmed;
    });
    if (done.length > 0) this.logger.info("outbox relay republished messages", { count: done.length });
    return done.length;
  }
}

/**
 * Releases deliveries to their queues: one outbox message per delivery (deliveryOutgoing), in
 * one statement with the writes that go with it (the status change that releases them, their
 * request's rows, ...). The one way accept, the scheduler, digest windows and DLQ replay hand a
 * delivery to the broker: the caller publishes the returned messages after its commit and the
 * relay covers a crash in between.
 */
export function releaseToOutbox(client: PoolClient | Pool, deliveries: DeliveryEnvelope[], alongside?: AlongsideWrites): Promise<StoredOutgoing[]> {
  return insertOutbox(client, deliveries.map(deliveryOutgoing), alongside);
}
