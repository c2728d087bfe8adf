-- Procurements, call-off orders, continuity agreements and the service ledger
-- (DOMAIN.md §3-§5).

-- Order numbers start at 010001 (call-off id C010001-01).
CREATE SEQUENCE order_numbers START WITH 10001 MAXVALUE 999999;

-- One row per revision of an order. Revision 1 is the original; a higher
-- revision is an amendment that may only add recipients or Additional
-- Services. The latest completed revision is the order in force.
CREATE TABLE orders (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_number           integer NOT NULL CHECK (order_number BETWEEN 10001 AND 999999),
    revision               smallint NOT NULL CHECK (revision BETWEEN 1 AND 99),
    ccg_code               text NOT NULL REFERENCES ccgs (code),
    supplier_id            text NOT NULL REFERENCES suppliers (id),
    description            text NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    commencement_date      date NOT NULL,
    initial_period_months  smallint NOT NULL CHECK (initial_period_months >= 1),
    maximum_term_months    smallint NOT NULL CHECK (maximum_term_months <= 36),
    -- in_progress: editable; completed: signed, read-only; superseded: a
    -- later revision was completed; terminated: ended early.
    status                 text NOT NULL DEFAULT 'in_progress'
                           CHECK (status IN ('in_progress', 'completed', 'superseded', 'terminated')),
    completed_by           bigint REFERENCES users (id),
    completed_at           timestamptz,
    termination_reason     text,
    termination_date       date,
    terminated_by          bigint REFERENCES users (id),
    terminated_at          timestamptz,
    created_by             bigint REFERENCES users (id),
    created_at             timestamptz NOT NULL,
    -- Bumped by every change: a save carrying an older version is refused.
    version                integer NOT NULL DEFAULT 1,
    UNIQUE (order_number, revision),
    CHECK (maximum_term_months > initial_period_months),
    CHECK ((status IN ('completed', 'superseded', 'terminated')) = (completed_at IS NOT NULL)),
    CHECK ((status = 'terminated') = (termination_date IS NOT NULL))
);
CREATE INDEX orders_ccg_idx ON orders (ccg_code, order_number DESC);
-- At most one revision of an order is being edited at a time.
CREATE UNIQUE INDEX orders_one_draft_idx ON orders (order_number) WHERE status = 'in_progress';

CREATE TABLE order_items (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id            bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    catalogue_item_id   text NOT NULL REFERENCES catalogue_items (id),
    -- The price as it was when the item was added: later catalogue changes
    -- never touch an order.
    price_id            integer REFERENCES catalogue_prices (id),
    unit_price          numeric(18, 4) NOT NULL CHECK (unit_price >= 0),
    pricing_unit        text NOT NULL,
    pricing_unit_description text NOT NULL,
    time_unit           text CHECK (time_unit IN ('month', 'year')),
    provisioning_type   text NOT NULL,
    funding_type_id     integer REFERENCES funding_types (id),
    -- The revision that added the item (copied items keep the original).
    added_in_revision   smallint NOT NULL,
    UNIQUE (order_id, catalogue_item_id)
);

CREATE TABLE order_recipients (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_item_id          bigint NOT NULL REFERENCES order_items (id) ON DELETE CASCADE,
    practice_code          text NOT NULL REFERENCES practices (code),
    quantity               integer NOT NULL CHECK (quantity > 0),
    planned_delivery_date  date,
    added_in_revision      smallint NOT NULL,
    UNIQUE (order_item_id, practice_code)
);
CREATE INDEX order_recipients_practice_idx ON order_recipients (practice_code);

-- One Continuity Call-Off Agreement per CCG per supplier.
CREATE TABLE continuity_agreements (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ccg_code     text NOT NULL REFERENCES ccgs (code),
    supplier_id  text NOT NULL REFERENCES suppliers (id),
    start_date   date NOT NULL,
    created_at   timestamptz NOT NULL,
    UNIQUE (ccg_code, supplier_id)
);

-- The service ledger: one row per service at a practice.
CREATE TABLE service_instances (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ccg_code            text NOT NULL REFERENCES ccgs (code),
    practice_code       text NOT NULL REFERENCES practices (code),
    catalogue_item_id   text NOT NULL REFERENCES catalogue_items (id),
    supplier_id         text NOT NULL REFERENCES suppliers (id),
    order_id            bigint REFERENCES orders (id),
    order_recipient_id  bigint REFERENCES order_recipients (id),
    agreement_id        bigint REFERENCES continuity_agreements (id),
    unit_price          numeric(18, 4) NOT NULL CHECK (unit_price >= 0),
    pricing_unit        text NOT NULL,
    time_unit           text CHECK (time_unit IN ('month', 'year')),
    -- list_size: the quantity is the practice's list size in force each
    -- month (per-patient prices); fixed: quantity below.
    quantity_rule       text NOT NULL CHECK (quantity_rule IN ('fixed', 'list_size')),
    quantity            integer NOT NULL CHECK (quantity > 0),
    planned_m1          date,
    actual_m1           date,
    m2                  date,
    cessation_date      date,
    state               text NOT NULL CHECK (state IN ('planned', 'active', 'ceased', 'cancelled')),
    created_at          timestamptz NOT NULL,
    version             integer NOT NULL DEFAULT 1,
    -- Exactly one source: an order or a continuity agreement.
    CHECK ((order_id IS NULL) <> (agreement_id IS NULL)),
    CHECK (state <> 'active' OR actual_m1 IS NOT NULL),
    CHECK (cessation_date IS NULL OR actual_m1 IS NULL OR cessation_date >= actual_m1),
    UNIQUE (order_recipient_id)
);
CREATE INDEX service_instances_ccg_idx ON service_instances (ccg_code, practice_code, state);
CREATE INDEX service_instances_order_idx ON service_instances (order_id) WHERE order_id IS NOT NULL;
CREATE UNIQUE INDEX service_instances_agreement_idx ON service_instances (agreement_id, practice_code, catalogue_item_id)
    WHERE agreement_id IS NOT NULL AND state IN ('planned', 'active');

-- Every change to a service instance: who, when, why, old and new values.
CREATE TABLE service_instance_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id   bigint NOT NULL REFERENCES service_instances (id),
    at            timestamptz NOT NULL,
    actor_id      bigint REFERENCES users (id),
    change        text NOT NULL,
    -- The tracker return line that caused it, when one did (issue 5).
    return_line_id bigint,
    before        jsonb,
    after         jsonb
);
CREATE INDEX service_instance_history_instance_idx ON service_instance_history (instance_id, at);

-- Procurements: the steps a CCG follows to an order (DOMAIN.md §3).
CREATE TABLE procurements (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ccg_code    text NOT NULL REFERENCES ccgs (code),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    procedure   text CHECK (procedure IN ('direct_award', 'further_competition_on', 'further_competition_off')),
    order_id    bigint REFERENCES orders (id),
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    version     integer NOT NULL DEFAULT 1
);
CREATE INDEX procurements_ccg_idx ON procurements (ccg_code);

CREATE TABLE procurement_steps (
    procurement_id  bigint NOT NULL REFERENCES procurements (id) ON DELETE CASCADE,
    step            text NOT NULL CHECK (step IN ('prepare', 'review', 'evaluate', 'award', 'manage')),
    status          text NOT NULL DEFAULT 'not_started' CHECK (status IN ('not_started', 'completed', 'skipped')),
    completed_by    bigint REFERENCES users (id),
    completed_at    timestamptz,
    PRIMARY KEY (procurement_id, step)
);

CREATE TABLE procurement_criteria (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    procurement_id  bigint NOT NULL REFERENCES procurements (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    weight          smallint NOT NULL CHECK (weight BETWEEN 1 AND 100),
    position        smallint NOT NULL,
    UNIQUE (procurement_id, name)
);

CREATE TABLE procurement_shortlist (
    procurement_id  bigint NOT NULL REFERENCES procurements (id) ON DELETE CASCADE,
    item_id         text NOT NULL REFERENCES catalogue_items (id),
    PRIMARY KEY (procurement_id, item_id)
);

CREATE TABLE procurement_scores (
    procurement_id  bigint NOT NULL REFERENCES procurements (id) ON DELETE CASCADE,
    item_id         text NOT NULL REFERENCES catalogue_items (id),
    criterion_id    bigint NOT NULL REFERENCES procurement_criteria (id) ON DELETE CASCADE,
    score           smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    PRIMARY KEY (procurement_id, item_id, criterion_id)
);
