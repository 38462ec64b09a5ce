-- What the migrations create that prisma/schema.prisma cannot express (Prisma 6 has no partial
-- indexes). `npm run db:check` applies this after the schema's SQL, so that the two databases it
-- compares still agree; each statement here must match its migration exactly.

-- 0007_rare_status_index
CREATE INDEX "deliveries_rare_status_request_id_idx" ON "deliveries"("request_id") WHERE "status" NOT IN ('queued', 'processing', 'sent');
