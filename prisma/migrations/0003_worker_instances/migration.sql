-- Worker instances with a heartbeat, and claims that name their instance: a redelivered message
-- whose claim belongs to an instance that stopped beating is decided at once instead of after a
-- lease. A claim is taken right before the provider call, so a claimed delivery of a dead
-- instance is one that was on the wire. provider names who it was handed to (and, on an attempt,
-- who failed it).
ALTER TABLE "deliveries" ADD COLUMN "claimed_by" UUID,
ADD COLUMN "provider" TEXT;

ALTER TABLE "delivery_attempts" ADD COLUMN "provider" TEXT;

-- CreateTable
CREATE TABLE "worker_instances" (
    "id" UUID NOT NULL,
    "service" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stopped_at" TIMESTAMPTZ(3),
    "info" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "worker_instances_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "worker_instances_heartbeat_at_idx" ON "worker_instances"("heartbeat_at");
