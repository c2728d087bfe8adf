DROP INDEX return_lines_carried_idx;
DROP TABLE outbox, job_runs;
