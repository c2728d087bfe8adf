-- The nightly job's record of its runs, and the outbox of reminders it
-- queues (sent by a River worker, or kept for admins when no SMTP host is
-- configured). River's own tables are created by rivermigrate in the same
-- `tracker migrate up`.

CREATE TABLE job_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The London day the run did the work of.
    business_date  date NOT NULL,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    outcome        text NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed')),
    issued         integer NOT NULL DEFAULT 0,
    flagged        integer NOT NULL DEFAULT 0,
    reminders      integer NOT NULL DEFAULT 0,
    ceased         integer NOT NULL DEFAULT 0,
    error          text NOT NULL DEFAULT '',
    -- Who pressed "Run now"; NULL for the schedule and the command line.
    triggered_by   bigint REFERENCES users (id)
);
CREATE INDEX job_runs_started_idx ON job_runs (started_at DESC);

CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- One message per purpose: queuing the same reminder again does nothing.
    dedupe_key       text NOT NULL UNIQUE,
    kind             text NOT NULL CHECK (kind IN ('due_soon', 'overdue', 'late_digest')),
    to_address       text NOT NULL,
    subject          text NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_unsent_idx ON outbox (next_attempt_at) WHERE sent_at IS NULL;

-- A requested change gets its actual date on one return only.
CREATE UNIQUE INDEX return_lines_carried_idx ON return_lines (carried_from) WHERE carried_from IS NOT NULL;
