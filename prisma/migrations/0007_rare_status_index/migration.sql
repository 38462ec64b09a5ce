-- The `status` list filter (GET /notifications?status=failed) on a large table: a partial index of
-- the deliveries whose status is not on the hot path, by request, so that the newest requests with
-- a failed (dead_lettered, suppressed, ...) delivery are found without walking the sent ones.
-- Rows going queued -> processing -> sent never enter it, so the send path pays nothing for it.
-- Prisma 6's schema cannot express a partial index: prisma/outside-schema.sql repeats it for
-- `npm run db:check` (see ARCHITECTURE.md, Database).

-- CreateIndex
CREATE INDEX "deliveries_rare_status_request_id_idx" ON "deliveries"("request_id") WHERE "status" NOT IN ('queued', 'processing', 'sent');
