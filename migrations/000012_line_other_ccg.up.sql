-- A merger or split into a practice of another CCG is allowed only once the
-- buyer has confirmed it (the line keeps that word, so that checking it
-- again, at submission or acceptance, does not refuse it); the reviewer is
-- shown it as a review check.
ALTER TABLE return_lines ADD COLUMN other_ccg_confirmed boolean NOT NULL DEFAULT false;
