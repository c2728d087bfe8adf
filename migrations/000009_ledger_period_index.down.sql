DROP INDEX service_instances_practice_idx;
CREATE INDEX service_instances_ccg_idx ON service_instances (ccg_code, practice_code, state);
DROP INDEX service_instances_ccg_period_idx;
