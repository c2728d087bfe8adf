-- Each role's dashboard reads a short, ordered list of its work; each list
-- has an index of its own, so its cost follows what it shows, not the size
-- of the tables (returns of every CCG and month, the whole ledger, the
-- outbox's history).

-- The reviewer's returns awaiting review, oldest first.
CREATE INDEX tracker_returns_submitted_idx ON tracker_returns (submitted_at) WHERE status = 'submitted';
-- Returns not yet submitted, by due date: the late CCGs.
CREATE INDEX tracker_returns_open_due_idx ON tracker_returns (due_date) WHERE status IN ('issued', 'draft', 'returned');
-- Returns sent back and not yet submitted again.
CREATE INDEX tracker_returns_sent_back_idx ON tracker_returns (reviewed_at)
    WHERE status IN ('returned', 'draft') AND reviewed_at IS NOT NULL;
-- A buyer's planned services by planned go-live date.
CREATE INDEX service_instances_planned_idx ON service_instances (ccg_code, planned_m1) WHERE state = 'planned';
-- Messages whose sending failed and are not sent yet.
CREATE INDEX outbox_failed_idx ON outbox (created_at DESC) WHERE sent_at IS NULL AND last_error <> '';
