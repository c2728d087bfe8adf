-- Two rules of a return that SQL needs as much as Go, kept once, here, as
-- generated columns that Go reads (tracker.Return.Deadline, .Editable), so
-- no copy can drift:
-- * deadline, the last instant it may be submitted on time: the end of its
--   due day in London;
-- * editable, whether its buyers may still change it: issued, a draft, or
--   returned to the CCG.
ALTER TABLE tracker_returns
    ADD COLUMN deadline timestamptz NOT NULL
        GENERATED ALWAYS AS (((due_date + 1)::timestamp AT TIME ZONE 'Europe/London')) STORED,
    ADD COLUMN editable boolean NOT NULL
        GENERATED ALWAYS AS (status IN ('issued', 'draft', 'returned')) STORED;

-- The late CCGs (open returns past their deadline), and the night's
-- flagging of those not yet flagged.
DROP INDEX tracker_returns_open_due_idx;
CREATE INDEX tracker_returns_open_deadline_idx ON tracker_returns (deadline) WHERE editable;
CREATE INDEX tracker_returns_unflagged_idx ON tracker_returns (deadline) WHERE late_at IS NULL;
