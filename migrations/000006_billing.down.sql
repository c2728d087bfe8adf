DROP TABLE billing_lines, billing_months;
