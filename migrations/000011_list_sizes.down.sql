DROP TABLE practice_proposals;
ALTER TABLE billing_lines DROP COLUMN list_size_date;
DROP TABLE practice_list_sizes;
DROP TABLE imports;
