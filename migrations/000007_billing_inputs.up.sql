-- The input version of reconciliation (issue 10): one counter, bumped in
-- the same transaction as every change to anything a reconciliation line
-- reads, so billing can compute an open month once per version and serve
-- it from memory until the version moves. The bump is a statement-level
-- trigger on each table the engine's queries read (internal/billing,
-- instanceQuery, frozen, adjustments), so no write path can forget it:
-- acceptance of a return, order completion and termination, agreement
-- changes, the nightly cessations, closing a month and ODS imports all
-- write through these tables. A reader that reads the version and the
-- lines in one REPEATABLE READ snapshot sees lines that belong to it.
--
-- The counter's row lock is held from a writer's first bump until it
-- commits, so writers of these tables take turns at that point; they are
-- short transactions, and readers never wait on it.

CREATE TABLE billing_inputs (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint NOT NULL
);
INSERT INTO billing_inputs (only_row, version) VALUES (true, 1);

CREATE FUNCTION billing_inputs_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE billing_inputs SET version = version + 1;
    RETURN NULL;
END $$;

-- The ledger and the closed months: every write counts.
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON service_instances
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON service_instance_history
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_months
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_lines
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();

-- The reference data and orders a line shows: only the columns it reads
-- (a buyer editing a draft order does not move the version). A new row
-- can matter too (a practice's list size), a deleted one as well.
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OF name, list_size OR DELETE OR TRUNCATE ON practices
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OF name OR DELETE OR TRUNCATE ON ccgs
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OF name OR DELETE OR TRUNCATE ON suppliers
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OF name, kind OR DELETE OR TRUNCATE ON catalogue_items
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();
CREATE TRIGGER billing_inputs_bump AFTER INSERT OR UPDATE OF name, description OR DELETE OR TRUNCATE ON pricing_units
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();
-- An order's number and revision name its services' lines; a new order
-- has no services yet.
CREATE TRIGGER billing_inputs_bump AFTER UPDATE OF order_number, revision OR DELETE OR TRUNCATE ON orders
    FOR EACH STATEMENT EXECUTE FUNCTION billing_inputs_bump();

-- The ×10 instance query of an open month sorted on disk: the rows it
-- reads, in the order it emits them (supplier, CCG, practice, id), come
-- from this index instead of a sort.
CREATE INDEX service_instances_billing_idx ON service_instances (supplier_id, ccg_code, practice_code, id);

-- A closed month's lines are read in the order they were frozen in (the
-- engine's), a page at a time or all for an export: from this index, not
-- a sort of every line of the month.
CREATE INDEX billing_lines_period_id_idx ON billing_lines (period, id);
