-- Each CCG's open practices and their patients, kept current by triggers on
-- practices, so that the regions summary (every /ccgs, /returns,
-- /performance and dashboard request) and the CCG list read 106 rows instead
-- of counting 6,500 practices each time. Practices change only through the
-- seed and the ODS import, in bulk, so the cost falls there. "Open" is
-- status 'A' (ODS "Active"); this is the one place that rule is counted.
CREATE TABLE ccg_practice_counts (
  ccg_code  text PRIMARY KEY REFERENCES ccgs(code),
  practices integer NOT NULL,
  patients  bigint NOT NULL
);

-- Recounts the named CCGs: only those a statement touched.
CREATE FUNCTION recount_ccg_practices(codes text[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO ccg_practice_counts (ccg_code, practices, patients)
  SELECT c.code,
         count(p.code) FILTER (WHERE p.status = 'A'),
         coalesce(sum(p.list_size) FILTER (WHERE p.status = 'A'), 0)
  FROM ccgs c LEFT JOIN practices p ON p.ccg_code = c.code
  WHERE c.code = ANY(codes)
  GROUP BY c.code
  ON CONFLICT (ccg_code) DO UPDATE SET practices = EXCLUDED.practices, patients = EXCLUDED.patients
$$;

-- Statement-level, with transition tables: one recount per INSERT, UPDATE
-- or DELETE statement, of the CCGs its rows came from or went to.
CREATE FUNCTION practices_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM recount_ccg_practices(ARRAY(SELECT DISTINCT ccg_code FROM new_rows));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM recount_ccg_practices(ARRAY(SELECT ccg_code FROM new_rows UNION SELECT ccg_code FROM old_rows));
  ELSE
    PERFORM recount_ccg_practices(ARRAY(SELECT DISTINCT ccg_code FROM old_rows));
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER practices_recount_insert AFTER INSERT ON practices
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION practices_recount();
CREATE TRIGGER practices_recount_update AFTER UPDATE ON practices
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION practices_recount();
CREATE TRIGGER practices_recount_delete AFTER DELETE ON practices
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION practices_recount();

SELECT recount_ccg_practices(ARRAY(SELECT code FROM ccgs));
