DROP INDEX IF EXISTS outbox_failed_idx;
DROP INDEX IF EXISTS service_instances_planned_idx;
DROP INDEX IF EXISTS tracker_returns_sent_back_idx;
DROP INDEX IF EXISTS tracker_returns_open_due_idx;
DROP INDEX IF EXISTS tracker_returns_submitted_idx;
