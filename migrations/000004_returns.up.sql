-- The monthly Order Tracker return (DOMAIN.md §6): one per CCG per month,
-- its change lines, and every submitted version.

CREATE TABLE tracker_returns (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ccg_code      text NOT NULL REFERENCES ccgs (code),
    -- The first day of the month the return reports on.
    period        date NOT NULL CHECK (extract(day FROM period) = 1),
    due_date      date NOT NULL CHECK (due_date > period),
    status        text NOT NULL DEFAULT 'issued'
                  CHECK (status IN ('issued', 'draft', 'submitted', 'returned', 'accepted')),
    -- "No changes this month", said explicitly.
    nil_return    boolean NOT NULL DEFAULT false,
    issued_at     timestamptz NOT NULL,
    submitted_at  timestamptz,
    submitted_by  bigint REFERENCES users (id),
    -- Set once, by the nightly job, when the due date passed unsubmitted.
    late_at       timestamptz,
    reviewed_at   timestamptz,
    reviewed_by   bigint REFERENCES users (id),
    review_comment text,
    -- Bumped by every change: a save carrying an older version is refused.
    version       integer NOT NULL DEFAULT 1,
    UNIQUE (ccg_code, period),
    CHECK ((status IN ('submitted', 'accepted')) <= (submitted_at IS NOT NULL))
);
CREATE INDEX tracker_returns_period_idx ON tracker_returns (period, status);

-- A change the buyer reports. Dated after the period, it is a requested
-- change: it changes nothing and comes back next month for its actual date.
CREATE TABLE return_lines (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    return_id         bigint NOT NULL REFERENCES tracker_returns (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('activation', 'verification', 'cessation', 'migration',
                          'merger', 'split', 'cancellation', 'correction')),
    practice_code     text NOT NULL REFERENCES practices (code),
    instance_id       bigint REFERENCES service_instances (id),
    -- A migration's new service (a planned instance of an order).
    new_instance_id   bigint REFERENCES service_instances (id),
    -- A merger's receiving practice; a split's receiving practices.
    target_practices  text[] NOT NULL DEFAULT '{}',
    -- A correction names the date it corrects.
    corrects          text CHECK (corrects IN ('actual_m1', 'm2', 'cessation')),
    effective_date    date NOT NULL,
    note              text NOT NULL DEFAULT '',
    reviewer_comment  text NOT NULL DEFAULT '',
    -- The requested line of an earlier return this one gives the actual date of.
    carried_from      bigint REFERENCES return_lines (id),
    created_at        timestamptz NOT NULL,
    created_by        bigint REFERENCES users (id)
);
CREATE INDEX return_lines_return_idx ON return_lines (return_id, id);

-- Every submission, frozen, so versions can be compared.
CREATE TABLE return_submissions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    return_id     bigint NOT NULL REFERENCES tracker_returns (id),
    number        integer NOT NULL,
    submitted_at  timestamptz NOT NULL,
    submitted_by  bigint REFERENCES users (id),
    nil_return    boolean NOT NULL,
    lines         jsonb NOT NULL,
    UNIQUE (return_id, number)
);
