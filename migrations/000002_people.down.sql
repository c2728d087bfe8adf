DROP TABLE audit_log, password_tokens, login_failures, sessions, users;
