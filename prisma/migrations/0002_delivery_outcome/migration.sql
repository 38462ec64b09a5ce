-- Per-delivery provider outcome (push: one entry per device with its result), shown by
-- GET /notifications/:id as `outcome`.
ALTER TABLE "deliveries" ADD COLUMN "outcome" JSONB;
