-- Retention (libs/notifications/src/retention.ts): dead letters older than RETENTION_DAYS whose
-- delivery is gone are found oldest first by created_at (the (channel, created_at) index cannot
-- serve a search over every channel). Notifications are found by notification_requests'
-- created_at index (0001_init), their children by the foreign keys' indexes.

-- CreateIndex
CREATE INDEX "dead_letters_created_at_idx" ON "dead_letters"("created_at");
