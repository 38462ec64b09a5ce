-- Issue 11: digests, throttles, status webhooks (event subscriptions), Standard Webhooks signing.
-- New delivery statuses: digesting (collected into an open digest window), digested (folded into
-- the delivery named by digest_delivery_id, which carried it), throttled (past a send's throttle).
ALTER TYPE "DeliveryStatus" ADD VALUE 'digesting';
ALTER TYPE "DeliveryStatus" ADD VALUE 'digested';
ALTER TYPE "DeliveryStatus" ADD VALUE 'throttled';

-- Users: the previous webhook signing secret stays valid (a second signature) until it expires.
ALTER TABLE "users" ADD COLUMN "webhook_secret_previous" TEXT,
ADD COLUMN "webhook_secret_previous_expires_at" TIMESTAMPTZ(3);

-- Requests: the send's digest and throttle, as given (status reads show them).
ALTER TABLE "notification_requests" ADD COLUMN "digest" JSONB,
ADD COLUMN "throttle" JSONB;

-- Deliveries: the digest a delivery belongs to (the id of the delivery that carries it), and the
-- variables it renders with when they are not its request's (a digest's events/count/first/last).
ALTER TABLE "deliveries" ADD COLUMN "digest_delivery_id" UUID,
ADD COLUMN "variables" JSONB;

-- Routing rules may carry a digest and a throttle for the sends they make.
ALTER TABLE "routing_rules" ADD COLUMN "digest" JSONB,
ADD COLUMN "throttle" JSONB;

-- CreateTable
CREATE TABLE "digest_windows" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "template_id" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "digest_key" TEXT NOT NULL,
    "carrier_delivery_id" UUID,
    "count" INTEGER NOT NULL DEFAULT 0,
    "max" INTEGER,
    "opened_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closes_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "digest_windows_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "throttle_windows" (
    "user_id" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "throttle_key" TEXT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "throttle_windows_pkey" PRIMARY KEY ("user_id","channel","throttle_key")
);

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT[],
    "description" TEXT,
    "secret" TEXT NOT NULL,
    "secret_previous" TEXT,
    "secret_previous_expires_at" TIMESTAMPTZ(3),
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "disabled_reason" TEXT,
    "failing_since" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_success_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_events" (
    "id" BIGSERIAL NOT NULL,
    "endpoint_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "delivery_id" UUID NOT NULL,
    "payload" JSONB NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "deliveries_digest_delivery_id_idx" ON "deliveries"("digest_delivery_id");

-- CreateIndex
CREATE INDEX "digest_windows_user_id_template_id_channel_digest_key_idx" ON "digest_windows"("user_id", "template_id", "channel", "digest_key");

-- CreateIndex
CREATE INDEX "digest_windows_closes_at_idx" ON "digest_windows"("closes_at");

-- CreateIndex
CREATE INDEX "throttle_windows_ends_at_idx" ON "throttle_windows"("ends_at");

-- CreateIndex
CREATE INDEX "webhook_events_state_next_attempt_at_idx" ON "webhook_events"("state", "next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_events_endpoint_id_delivery_id_state_idx" ON "webhook_events"("endpoint_id", "delivery_id", "state");

-- AddForeignKey
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;
