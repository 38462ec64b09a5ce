-- The user_id list filter lists a user's requests newest first by id: an index of user and id
-- serves that order itself, where the index of user and created_at left PostgreSQL walking the
-- primary key backwards and filtering the user. The old index had no other reader.

-- DropIndex
DROP INDEX "notification_requests_user_id_created_at_idx";

-- CreateIndex
CREATE INDEX "notification_requests_user_id_id_idx" ON "notification_requests"("user_id", "id");
