DROP TABLE return_submissions, return_lines, tracker_returns;
