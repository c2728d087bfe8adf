ALTER TABLE orders DROP COLUMN call_off_id;
