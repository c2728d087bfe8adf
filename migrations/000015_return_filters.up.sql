-- A return's services are filtered by item as well as by state (issue 11):
-- with the item in the period index, the count of each practice's matching
-- services and the item select of the return page still read the index
-- alone.
CREATE INDEX service_instances_ccg_period_item_idx ON service_instances (ccg_code, practice_code, state)
    INCLUDE (actual_m1, cessation_date, catalogue_item_id);
DROP INDEX service_instances_ccg_period_idx;
