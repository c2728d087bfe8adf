DROP INDEX tracker_returns_unflagged_idx;
DROP INDEX tracker_returns_open_deadline_idx;
ALTER TABLE tracker_returns DROP COLUMN editable, DROP COLUMN deadline;
CREATE INDEX tracker_returns_open_due_idx ON tracker_returns (due_date) WHERE status IN ('issued', 'draft', 'returned');
