-- Worker instances with a heartbeat, and claims that name their instance: a redelivered message
-- whose claim belongs to an instance that stopped beating is decided at once instead of after a
-- lease. handed_at marks the moment an attempt was handed to the provider: a claim that was never
-- handed over is simply delivered by the next worker. provider names who sent it.
ALTER TABLE "deliveries" ADD COLUMN "claimed_by" UUID,
ADD COLUMN "handed_at" TIMESTAMPTZ(3),
ADD COLUMN "provider" TEXT;

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
