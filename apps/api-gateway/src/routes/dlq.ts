import { bulkReplaySchema, deadLetterIdSchema, DeadLetterQueries, DeadLetterReplayer, listDeadLettersSchema } from "@herald/dlq";
import { actorOf, send, type Api } from "@herald/http";
import type { OutboxPublisher } from "@herald/messaging";
import { UserRateLimiter } from "@herald/resilience";
import type { Runtime } from "@herald/runtime";

/** The operators' dead-letter queue: list, inspect, replay (one or in bulk), delete. */
export function dlqRoutes(api: Api, { db, redis, logger, config }: Runtime, outbox: OutboxPublisher): void {
  const rate = config.dlq.replayRate;
  const budget = new UserRateLimiter(redis, { points: rate, windowMs: 1000, keyPrefix: "ratelimit:dlq" });
  const replayer = new DeadLetterReplayer(db.pool, outbox, budget, logger, { ratePerSecond: rate });
  const queries = new DeadLetterQueries(db);

  api.route(
    {
      method: "get",
      path: "/dlq",
      tag: "Dead letters",
      summary: "Dead letters, newest first; filter by channel, error code, time; cursor pagination",
      description: "`from` is inclusive, `to` exclusive. `replayed=false` keeps the ones not replayed yet.",
      query: listDeadLettersSchema,
    },
    async ({ query, res }) => {
      const { items, nextCursor } = await queries.list(query);
      send(res, items, { meta: nextCursor ? { next_cursor: nextCursor } : {} });
    },
  );

  api.route(
    {
      method: "post",
      path: "/dlq/replay",
      tag: "Dead letters",
      summary: "Replay the matching dead letters not replayed yet, oldest first, paced to DLQ_REPLAY_RATE per second",
      description:
        "Replays at most `limit` (default 100, max 1000) in this call, and stops after 20 s; `remaining` says how many still match (call again to continue). Each delivery is sent once however often it is replayed.",
      body: bulkReplaySchema,
      status: 202,
    },
    async ({ body, res }) => {
      const answer = await replayer.replayMatching(body, actorOf(res));
      send(res, answer, { status: 202, message: `Replayed ${answer.replayed}, ${answer.remaining} remaining` });
    },
  );

  api.route(
    {
      method: "get",
      path: "/dlq/:id",
      tag: "Dead letters",
      summary: "A dead letter: the original message (payload, headers), its delivery now, and every failed attempt",
      params: deadLetterIdSchema,
      errors: [404],
    },
    async ({ params, res }) => {
      send(res, await queries.get(params.id));
    },
  );

  api.route(
    {
      method: "post",
      path: "/dlq/:id/replay",
      tag: "Dead letters",
      summary: "Replay a dead letter: its delivery goes back to its queue with attempts reset, same request and correlation id",
      description:
        "409 already_replayed when the delivery is no longer dead_lettered (a replay never sends twice); 409 not_replayable when the dead letter names no delivery.",
      params: deadLetterIdSchema,
      status: 202,
      errors: [404, 409],
    },
    async ({ params, res }) => {
      send(res, await replayer.replay(params.id, actorOf(res)), { status: 202, message: "Replayed" });
    },
  );

  api.route(
    {
      method: "delete",
      path: "/dlq/:id",
      tag: "Dead letters",
      summary: "Delete a dead letter from PostgreSQL (its copy in failed.queue, if any, is left there)",
      params: deadLetterIdSchema,
      status: 204,
      errors: [404],
    },
    async ({ params, res }) => {
      await queries.remove(params.id, actorOf(res));
      res.status(204).end();
    },
  );
}
