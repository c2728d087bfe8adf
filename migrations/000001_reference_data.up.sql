-- Reference data: the organisations and the catalogue every later table points at.
-- Codes are the public identifiers (ODS codes, catalogue ids), checked here so
-- that no import can store a malformed one.

CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^Y[0-9]{2}$'),
    name        text NOT NULL,
    -- Day of month M+1 on which the return for month M is due (DOMAIN.md §6).
    due_day     smallint NOT NULL CHECK (due_day BETWEEN 1 AND 28)
);

CREATE TABLE ccgs (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{2}[A-Z]$|^[0-9A-Z]{5}$'),
    name        text NOT NULL,
    region_code text NOT NULL REFERENCES regions (code),
    stp_code    text NOT NULL DEFAULT '',
    stp_name    text NOT NULL DEFAULT '',
    -- An admin's override of the region's due day; NULL means the region's day.
    due_day     smallint CHECK (due_day BETWEEN 1 AND 28),
    active      boolean NOT NULL DEFAULT true
);
CREATE INDEX ccgs_region_idx ON ccgs (region_code);

CREATE TABLE practices (
    code            text PRIMARY KEY CHECK (code ~ '^[A-Z][0-9]{5}$'),
    name            text NOT NULL,
    postcode        text NOT NULL DEFAULT '',
    ccg_code        text NOT NULL REFERENCES ccgs (code),
    pcn_code        text NOT NULL DEFAULT '',
    pcn_name        text NOT NULL DEFAULT '',
    open_date       date,
    close_date      date,
    -- ODS status: A active, C closed, D dormant, P proposed.
    status          text NOT NULL DEFAULT 'A' CHECK (status IN ('A', 'C', 'D', 'P')),
    list_size       integer CHECK (list_size >= 0),
    list_size_date  date,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (close_date IS NULL OR open_date IS NULL OR close_date >= open_date)
);
CREATE INDEX practices_ccg_idx ON practices (ccg_code, name);

CREATE TABLE suppliers (
    id          text PRIMARY KEY CHECK (id ~ '^[0-9]{5}$'),
    name        text NOT NULL,
    legal_name  text NOT NULL DEFAULT '',
    summary     text NOT NULL DEFAULT '',
    url         text NOT NULL DEFAULT '',
    deleted     boolean NOT NULL DEFAULT false
);

CREATE TABLE frameworks (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    short_name     text NOT NULL,
    owner          text NOT NULL DEFAULT '',
    expired        boolean NOT NULL DEFAULT false,
    maximum_term   smallint NOT NULL CHECK (maximum_term > 0)
);

CREATE TABLE pricing_units (
    id                integer PRIMARY KEY,
    name              text NOT NULL,
    range_description text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT ''
);

CREATE TABLE catalogue_items (
    id           text PRIMARY KEY
                 CHECK (id ~ '^[0-9]{5}-([0-9]{3}|[0-9]{3}A[0-9]{3}|S-[0-9]{3})$'),
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('solution', 'additional', 'associated')),
    supplier_id  text NOT NULL REFERENCES suppliers (id),
    -- An Additional Service always has its parent solution (DOMAIN.md §2).
    parent_id    text REFERENCES catalogue_items (id),
    published    boolean NOT NULL DEFAULT true,
    created_at   timestamptz,
    CHECK ((kind = 'additional') = (parent_id IS NOT NULL))
);
CREATE INDEX catalogue_items_supplier_idx ON catalogue_items (supplier_id);

CREATE TABLE catalogue_prices (
    id                integer PRIMARY KEY,
    item_id           text NOT NULL REFERENCES catalogue_items (id),
    provisioning_type text NOT NULL CHECK (provisioning_type IN ('patient', 'declarative', 'on demand')),
    pricing_unit_id   integer NOT NULL REFERENCES pricing_units (id),
    -- NULL for a one-off price.
    time_unit         text CHECK (time_unit IN ('month', 'year')),
    calculation_type  text NOT NULL DEFAULT 'single fixed',
    -- Money is never a float: up to 4 decimal places of pounds.
    price             numeric(18, 4) NOT NULL CHECK (price >= 0),
    currency          text NOT NULL DEFAULT 'GBP',
    published         boolean NOT NULL DEFAULT true
);
CREATE INDEX catalogue_prices_item_idx ON catalogue_prices (item_id);

CREATE TABLE framework_solutions (
    framework_id  text NOT NULL REFERENCES frameworks (id),
    item_id       text NOT NULL REFERENCES catalogue_items (id),
    is_foundation boolean NOT NULL DEFAULT false,
    PRIMARY KEY (framework_id, item_id)
);

CREATE TABLE funding_types (
    id   integer PRIMARY KEY,
    name text NOT NULL UNIQUE
);
