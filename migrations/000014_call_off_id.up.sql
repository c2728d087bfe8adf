-- The call-off ID (C + 6-digit order number + - + 2-digit revision, such
-- as C010001-01) is kept once, here, as a generated column: Go reads it and
-- every query that shows or searches it uses it, so the format cannot
-- drift between copies.
ALTER TABLE orders
    ADD COLUMN call_off_id text NOT NULL
        GENERATED ALWAYS AS ('C' || lpad(order_number::text, 6, '0') || '-' || lpad(revision::text, 2, '0')) STORED;

CREATE UNIQUE INDEX orders_call_off_id_idx ON orders (call_off_id);
