import type { Pool, PoolClient } from "pg";
import { Batcher, isDatabaseUnavailable, withTransaction, type BatchFailure } from "@herald/db";
import { releaseToOutbox, type AlongsideWrites, type DeliveryEnvelope, type StoredOutgoing } from "@herald/messaging";
import { eventSourceColumns, statusEventsInsert } from "@herald/status-webhooks";
import { answerWith, type AcceptAnswer } from "./answer";
import type { AcceptItem, DecidedWrite } from "./decisions";
import type { DeliveryRow } from "./rows";
import { decideDigests } from "./digest";
import { decideThrottles } from "./throttle";

export type WriteOutcome =
  | { kind: "created"; outbox: StoredOutgoing[] }
  /** The idempotency key was taken (by an earlier request, or one committed meanwhile). */
  | { kind: "duplicate"; bodyHash: string; response: unknown };

export interface AcceptWriterOptions {
  /** The most items one transaction writes. */
  maxBatch?: number;
  /** Transactions in flight at once; more requests wait and join the next batch. */
  maxConcurrent?: number;
  /**
   * How long the first request of a batch waits for others to join (ms). A wider window means
   * fewer, larger transactions (fewer commits and WAL flushes) for a little latency.
   */
  windowMs?: number;
  /** Called after each statement or transaction, failed ones included (metrics). */
  onWrite?: (items: number, seconds: number) => void;
  /** Called with the deliveries each committed write created, as decided (metrics by status: throttled, digesting, ...). */
  onDeliveries?: (deliveries: DeliveryRow[]) => void;
}

/**
 * Writes accepted sends to PostgreSQL in batches: whatever arrives while a transaction is in
 * flight joins the next one, so under load one transaction with a few multi-row INSERTs carries
 * hundreds of requests, and at low load a request waits for nobody.
 *
 * Idempotency is decided here, atomically: the key is inserted with ON CONFLICT in the same
 * transaction as the request, so of two concurrent requests with one key exactly one commits;
 * the other waits on the row lock and comes back as a duplicate with the winner's answer.
 */
export class AcceptWriter {
  private readonly batcher: Batcher<AcceptItem, WriteOutcome>;
  private readonly onWrite: AcceptWriterOptions["onWrite"];
  private readonly onDeliveries: AcceptWriterOptions["onDeliveries"];
  /** Transactions committed or tried, and the items they carried (for metrics and tests). */
  readonly stats = { transactions: 0, items: 0 };

  constructor(
    private readonly pool: Pool,
    options: AcceptWriterOptions = {},
  ) {
    this.onWrite = options.onWrite;
    this.onDeliveries = options.onDeliveries;
    this.batcher = new Batcher((items) => this.flush(items), {
      maxBatch: options.maxBatch ?? 500,
      maxConcurrent: options.maxConcurrent ?? 2,
      windowMs: options.windowMs ?? 2,
    });
  }

  write(item: AcceptItem): Promise<WriteOutcome> {
    return this.batcher.call(item);
  }

  writeMany(items: AcceptItem[]): Promise<WriteOutcome>[] {
    return items.map((item) => this.write(item));
  }

  private async flush(items: AcceptItem[]): Promise<(WriteOutcome | BatchFailure)[]> {
    try {
      const outcomes = await this.transaction(items);
      this.created(items, outcomes);
      return outcomes;
    } catch (error) {
      if (items.length === 1 || isDatabaseUnavailable(error)) throw error;
      // One bad item must not fail the others: write each on its own.
      const outcomes: (WriteOutcome | BatchFailure)[] = [];
      for (const item of items) {
        outcomes.push(
          await this.transaction([item]).then(
            ([outcome]) => {
              this.created([item], [outcome!]);
              return outcome!;
            },
            (e: unknown) => Batcher.failed(e),
          ),
        );
      }
      return outcomes;
    }
  }

  private created(items: AcceptItem[], outcomes: WriteOutcome[]): void {
    if (this.onDeliveries) this.onDeliveries(items.filter((_, i) => outcomes[i]?.kind === "created").flatMap((item) => item.deliveries));
  }

  private async transaction(items: AcceptItem[]): Promise<WriteOutcome[]> {
    this.stats.transactions += 1;
    this.stats.items += items.length;
    const started = process.hrtime.bigint();
    try {
      // Without idempotency keys, throttles or digests the whole write is one statement: atomic on
      // its own, one round trip.
      if (items.every((item) => !item.idempotency && !item.throttle && !item.digest)) return await this.insert(this.pool, items);
      return await withTransaction(this.pool, (client) => this.insert(client, items));
    } finally {
      this.onWrite?.(items.length, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async insert(client: PoolClient | Pool, items: AcceptItem[]): Promise<WriteOutcome[]> {
    const outcomes: (WriteOutcome | undefined)[] = items.map(() => undefined);
    const duplicateOf = await this.claimKeys(client, items, outcomes);
    const won = items.flatMap((_, i) => (outcomes[i] === undefined && !duplicateOf.has(i) ? [i] : []));
    const winners = won.map((i) => items[i]!);
    // Duplicates neither count toward a throttle nor join a digest: decided for the winners only.
    const decided = winners.length === 0 ? [] : await decide(client, winners);
    const released = winners.map(releasedOf);
    const stored = winners.length === 0 ? [] : await releaseToOutbox(client, released.flat(), requestWrites(winners, decided));
    let cursor = 0;
    won.forEach((i, w) => {
      const count = released[w]!.length;
      outcomes[i] = { kind: "created", outbox: stored.slice(cursor, cursor + count) };
      cursor += count;
    });
    // A key given twice in one batch: the later ones get the first one's answer.
    for (const [i, first] of duplicateOf) {
      const winner = items[first]!;
      outcomes[i] = { kind: "duplicate", bodyHash: winner.idempotency!.bodyHash, response: winner.answer };
    }
    return outcomes as WriteOutcome[];
  }

  /**
   * Inserts the batch's idempotency keys (taking over expired ones). Marks in `outcomes` the items
   * whose key another request holds; returns the items that repeat a key of this same batch.
   */
  private async claimKeys(client: PoolClient | Pool, items: AcceptItem[], outcomes: (WriteOutcome | undefined)[]): Promise<Map<number, number>> {
    const duplicateOf = new Map<number, number>();
    const firstByKey = new Map<string, number>();
    items.forEach((item, i) => {
      if (!item.idempotency) return;
      const id = `${item.idempotency.scope}\u0000${item.idempotency.key}`;
      const first = firstByKey.get(id);
      if (first === undefined) firstByKey.set(id, i);
      else duplicateOf.set(i, first);
    });
    if (firstByKey.size === 0) return duplicateOf;
    // A fixed order, so two batches never wait on each other's keys in opposite orders.
    const keyed = [...firstByKey.values()].sort((a, b) => {
      const x = items[a]!.idempotency!;
      const y = items[b]!.idempotency!;
      return x.scope === y.scope ? (x.key < y.key ? -1 : 1) : x.scope < y.scope ? -1 : 1;
    });
    const rows = keyed.map((i) => ({ ...items[i]!.idempotency!, requestId: items[i]!.request.id, response: items[i]!.answer }));
    const { rows: taken } = await client.query<{ scope: string; key: string }>(
      `INSERT INTO idempotency_keys (scope, key, body_hash, request_id, response, expires_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::jsonb[], $6::timestamptz[])
       ON CONFLICT (scope, key) DO UPDATE
         SET body_hash = EXCLUDED.body_hash, request_id = EXCLUDED.request_id, response = EXCLUDED.response,
             created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE idempotency_keys.expires_at < now()
       RETURNING scope, key`,
      [
        rows.map((r) => r.scope),
        rows.map((r) => r.key),
        rows.map((r) => r.bodyHash),
        rows.map((r) => r.requestId),
        rows.map((r) => JSON.stringify(r.response)),
        rows.map((r) => r.expiresAt.toISOString()),
      ],
    );
    const won = new Set(taken.map((t) => `${t.scope}\u0000${t.key}`));
    const lost = keyed.filter((i) => !won.has(`${items[i]!.idempotency!.scope}\u0000${items[i]!.idempotency!.key}`));
    if (lost.length === 0) return duplicateOf;
    const { rows: existing } = await client.query<{ scope: string; key: string; body_hash: string; response: unknown }>(
      `SELECT k.scope, k.key, k.body_hash, k.response FROM idempotency_keys k
       JOIN unnest($1::text[], $2::text[]) AS q(scope, key) ON k.scope = q.scope AND k.key = q.key`,
      [lost.map((i) => items[i]!.idempotency!.scope), lost.map((i) => items[i]!.idempotency!.key)],
    );
    for (const i of lost) {
      const { scope, key } = items[i]!.idempotency!;
      const row = existing.find((e) => e.scope === scope && e.key === key);
      if (row) outcomes[i] = { kind: "duplicate", bodyHash: row.body_hash, response: row.response };
    }
    // Items of this batch that repeated a lost key share its answer.
    for (const [i, first] of [...duplicateOf]) {
      const answer = outcomes[first];
      if (answer) {
        outcomes[i] = answer;
        duplicateOf.delete(i);
      }
    }
    return duplicateOf;
  }
}

/** The deliveries of an item that go out now, as the write left them (not throttled, not digesting, not scheduled). */
function releasedOf(item: AcceptItem): DeliveryEnvelope[] {
  return item.deliveries
    .filter((d) => d.status === "queued")
    .map((d) => ({ deliveryId: d.id, requestId: d.request_id, channel: d.channel, correlationId: item.request.correlation_id, priority: d.priority }));
}

/**
 * Throttles, then digests, of the batch's winners (inside the transaction, before the insert):
 * a throttled send is not collected. Items they changed get their answer again, and an
 * idempotency key stores that answer (its row was claimed with the planned one).
 */
async function decide(client: PoolClient | Pool, items: AcceptItem[]): Promise<DecidedWrite[]> {
  if (items.every((item) => !item.throttle && !item.digest)) return [];
  const writes = [await decideThrottles(client, items), await decideDigests(client, items)].filter((w): w is DecidedWrite => w !== undefined);
  const answered: { scope: string; key: string; response: AcceptAnswer }[] = [];
  for (const item of items) {
    if (!item.throttle && !item.digest) continue;
    item.answer = answerWith(item.answer, item.deliveries);
    if (item.idempotency) answered.push({ scope: item.idempotency.scope, key: item.idempotency.key, response: item.answer });
  }
  if (answered.length > 0) {
    writes.push({
      params: [answered.map((a) => a.scope), answered.map((a) => a.key), answered.map((a) => JSON.stringify(a.response))],
      sql: (param) => `UPDATE idempotency_keys k SET response = v.response
          FROM unnest(${param(0)}::text[], ${param(1)}::text[], ${param(2)}::jsonb[]) AS v(scope, key, response)
         WHERE k.scope = v.scope AND k.key = v.key`,
    });
  }
  return writes;
}

/**
 * The requests and deliveries of a batch, as the CTEs that go with the outbox INSERT (one
 * statement), with their status events and what throttles and digests decided. Rows travel as
 * one JSON array per table, in the shape the statement reads (jsonb_to_recordset by column
 * name): JSON.stringify is far cheaper than serialising a dozen parameter arrays element by element.
 */
function requestWrites(items: AcceptItem[], decided: DecidedWrite[]): AlongsideWrites {
  const requests = items.map((item) => item.request);
  const deliveries = items.flatMap((item) => item.deliveries);
  // Each decided write's first parameter, counted after the requests and deliveries.
  const firsts = decided.map((_, i) => decided.slice(0, i).reduce((sum, write) => sum + write.params.length, 0));
  return {
    statements: [
      `INSERT INTO notification_requests
         (id, user_id, user_ref, template_id, template_version, variables, priority, send_at,
          idempotency_key, api_key_id, correlation_id, source, event_type, digest, throttle)
       SELECT r.id, r.user_id, r.user_ref, r.template_id, r.template_version, r.variables, r.priority, r.send_at,
              r.idempotency_key, r.api_key_id, r.correlation_id, r.source, r.event_type, r.digest, r.throttle
         FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, user_id uuid, user_ref text, template_id text,
              template_version int, variables jsonb, priority "Priority", send_at timestamptz, idempotency_key text,
              api_key_id text, correlation_id text, source text, event_type text, digest jsonb, throttle jsonb)`,
      `INSERT INTO deliveries
         (id, request_id, channel, status, priority, template_version_id, release_at, last_error, last_error_code,
          failed_at, digest_delivery_id, variables)
       SELECT d.id, d.request_id, d.channel, d.status, d.priority, d.template_version_id, d.release_at, d.last_error,
              d.last_error_code, CASE WHEN d.status = 'failed' THEN now() END, d.digest_delivery_id, d.variables
         FROM jsonb_to_recordset($2::jsonb) AS d(id uuid, request_id uuid, channel "Channel", status "DeliveryStatus",
              priority "Priority", template_version_id uuid, release_at timestamptz, last_error text, last_error_code text,
              digest_delivery_id uuid, variables jsonb)
       RETURNING ${eventSourceColumns()}`,
      // request.accepted for every delivery (and delivery.suppressed, .throttled, ... for those), to the subscribed endpoints.
      statusEventsInsert("w1", { accepted: true }),
      ...decided.map((write, i) => write.sql((n) => `$${3 + firsts[i]! + n}`)),
    ],
    params: [JSON.stringify(requests), JSON.stringify(deliveries), ...decided.flatMap((write) => write.params)],
  };
}
