ALTER TABLE return_lines DROP COLUMN other_ccg_confirmed;
