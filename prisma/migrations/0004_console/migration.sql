-- The operator console (issue 10) and search (issue 11, "Find anything"):
-- * audit_log: every write through the API, written in the transaction of the write it records;
-- * indexes for each filter of GET /notifications, so each is an index scan on a million rows:
--   idempotency_key, correlation_id, template_id (with the id, newest first), provider_message_id,
--   and the recipient's phone and email (pg_trgm, so a case-insensitive match uses the index).
--   from/to and the pagination cursor use the primary key (UUIDv7 ids are time-ordered).
-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateTable
CREATE TABLE "audit_log" (
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "key_id" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "correlation_id" TEXT,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_log_target_type_target_id_idx" ON "audit_log"("target_type", "target_id");

-- CreateIndex
CREATE INDEX "audit_log_key_id_idx" ON "audit_log"("key_id");

-- CreateIndex
CREATE INDEX "audit_log_action_idx" ON "audit_log"("action");

-- CreateIndex
CREATE INDEX "users_email_trgm_idx" ON "users" USING GIN ("email" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "users_phone_idx" ON "users"("phone");

-- CreateIndex
CREATE INDEX "notification_requests_idempotency_key_idx" ON "notification_requests"("idempotency_key");

-- CreateIndex
CREATE INDEX "notification_requests_correlation_id_idx" ON "notification_requests"("correlation_id");

-- CreateIndex
CREATE INDEX "notification_requests_template_id_id_idx" ON "notification_requests"("template_id", "id");

-- CreateIndex
CREATE INDEX "deliveries_provider_message_id_idx" ON "deliveries"("provider_message_id");

