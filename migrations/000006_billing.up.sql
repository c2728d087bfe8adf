-- Reconciliation (DOMAIN.md §8): a month is computed from the service
-- ledger while open; closing it freezes its lines here, and later changes
-- that alter it become adjustment lines of the first open month.

CREATE TABLE billing_months (
    period     date PRIMARY KEY CHECK (extract(day FROM period) = 1),
    closed_at  timestamptz NOT NULL,
    closed_by  bigint REFERENCES users (id)
);

CREATE TABLE billing_lines (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    period        date NOT NULL REFERENCES billing_months (period),
    instance_id   bigint NOT NULL REFERENCES service_instances (id),
    -- charge: the month's charge; release: held amounts of earlier months
    -- released by M2; adjustment: a change to a closed month.
    kind          text NOT NULL CHECK (kind IN ('charge', 'release', 'adjustment')),
    -- The closed month an adjustment corrects.
    corrects      date,
    quantity      integer NOT NULL,
    days_charged  integer NOT NULL,
    days_in_month integer NOT NULL,
    amount        numeric(18, 2) NOT NULL,
    payable       boolean NOT NULL,
    CHECK ((kind = 'adjustment') = (corrects IS NOT NULL))
);
CREATE INDEX billing_lines_period_idx ON billing_lines (period, instance_id);
CREATE INDEX billing_lines_corrects_idx ON billing_lines (corrects, instance_id) WHERE corrects IS NOT NULL;
