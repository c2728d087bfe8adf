CREATE INDEX service_instances_ccg_period_idx ON service_instances (ccg_code, practice_code, state)
    INCLUDE (actual_m1, cessation_date);
DROP INDEX service_instances_ccg_period_item_idx;
