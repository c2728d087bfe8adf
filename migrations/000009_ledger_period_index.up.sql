-- A return's page and the service ledger count a CCG's services at each
-- practice in a month; with the dates in the index, that count reads the
-- index alone instead of every instance's row (at ten times the national
-- data the biggest CCG has 4,690).
CREATE INDEX service_instances_ccg_period_idx ON service_instances (ccg_code, practice_code, state)
    INCLUDE (actual_m1, cessation_date);
DROP INDEX service_instances_ccg_idx;

-- A practice's services, and those of every practice a return names at
-- once (the review's checks): by practice, whatever its CCG.
CREATE INDEX service_instances_practice_idx ON service_instances (practice_code, state) INCLUDE (id);
