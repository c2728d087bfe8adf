-- Issue 13: list sizes as NHS Digital publishes them (one extract a month,
-- every extract kept), the history of imports, and the practice changes an
-- ODS import proposes to the CCG that must report them.

-- Every import an admin (or the command line) ran: who, when, which file,
-- what it counted, and the report it gave, so the admin pages can say what
-- each import changed long after.
CREATE TABLE imports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('list_sizes', 'ods')),
    file_name   text NOT NULL,
    imported_at timestamptz NOT NULL,
    imported_by bigint REFERENCES users (id), -- NULL: the command line
    counts      jsonb NOT NULL,               -- {"new": 12, "changed": 3, ...}
    report      jsonb NOT NULL                -- what the report lists (capped)
);
CREATE INDEX imports_kind_idx ON imports (kind, imported_at DESC, id DESC);

-- One row per practice per extract: the list size "as at" extract_date.
-- practices.list_size and list_size_date stay the latest extract (orders
-- default a per-patient quantity to it); billing reads this table for the
-- size in force in a month. created_at is when the row was last written:
-- an extract written after a month was closed may change that month, and
-- billing looks for exactly those.
CREATE TABLE practice_list_sizes (
    practice_code text NOT NULL REFERENCES practices (code),
    extract_date  date NOT NULL,
    size          integer NOT NULL CHECK (size >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    import_id     bigint REFERENCES imports (id),
    PRIMARY KEY (practice_code, extract_date)
);
CREATE INDEX practice_list_sizes_created_idx ON practice_list_sizes (created_at);

-- The single list size each practice had becomes its first extract, so
-- existing data bills as before. A size with no date (none is loaded so)
-- is dated as the file it came from: January 2021.
INSERT INTO practice_list_sizes (practice_code, extract_date, size, created_at)
SELECT code, coalesce(list_size_date, DATE '2021-01-01'), list_size, updated_at
FROM practices WHERE list_size IS NOT NULL;

-- A line reads the size in force: every write to the extracts moves the
-- reconciliation's input version (migration 000007).
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON practice_list_sizes
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();

-- The extract a frozen per-patient line was charged on (NULL: the order's
-- own quantity, or not per patient), so a closed month still explains it.
ALTER TABLE billing_lines ADD COLUMN list_size_date date;

-- What an ODS import found the CCG must report: a practice with planned or
-- live services that closed or moved to another commissioner (a proposal:
-- the buyer makes it a line or dismisses it), or a practice newly opened in
-- the CCG (a note, nothing to decide). One per practice, change and detail
-- (the close date, the new commissioner, the open date), however often a
-- file is imported.
CREATE TABLE practice_proposals (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ccg_code       text NOT NULL REFERENCES ccgs (code),
    practice_code  text NOT NULL REFERENCES practices (code),
    change         text NOT NULL CHECK (change IN ('closed', 'moved', 'opened')),
    detail         text NOT NULL,
    effective_date date NOT NULL, -- the date the line would carry
    made_at        timestamptz NOT NULL,
    import_id      bigint REFERENCES imports (id),
    outcome        text CHECK (outcome IN ('confirmed', 'dismissed')),
    outcome_kind   text,          -- the kind of line it became
    reason         text,          -- why it was dismissed
    return_id      bigint REFERENCES tracker_returns (id), -- the return it was decided on
    decided_at     timestamptz,
    decided_by     bigint REFERENCES users (id),
    UNIQUE (practice_code, change, detail),
    CHECK ((outcome IS NULL) = (decided_at IS NULL)),
    CHECK (outcome IS DISTINCT FROM 'dismissed' OR reason <> '')
);
CREATE INDEX practice_proposals_ccg_idx ON practice_proposals (ccg_code, made_at);
