-- Issue 15: messages to people about their work, the audit log to search,
-- and users put right.

-- The outbox carries every message the service sends, not only the night's
-- reminders; each names the user it is for, so their account page lists
-- what was sent to them (an address alone would follow an email change).
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN (
    'due_soon', 'overdue', 'late_digest',
    'return_returned', 'return_accepted', 'return_resubmitted', 'password_link'));
ALTER TABLE outbox ADD COLUMN user_id bigint REFERENCES users (id);
-- The page a message is about; the link is made from BASE_URL when it is
-- sent or shown (internal/outbox).
ALTER TABLE outbox ADD COLUMN link_path text NOT NULL DEFAULT '';
UPDATE outbox o SET user_id = u.id FROM users u WHERE u.email = o.to_address;
CREATE INDEX outbox_user_idx ON outbox (user_id, created_at DESC, id DESC);

-- Which user a session is signed in as, written by the session store
-- beside scs's opaque data, so every session of a user can be ended in
-- the transaction that changes their role or CCG.
ALTER TABLE sessions ADD COLUMN user_id bigint;
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE user_id IS NOT NULL;

-- The CCG an audit entry is about, for the log's CCG filter. It is worked
-- out here, once, from the entity the entry names, so that no writer of
-- the log can forget it; it is the CCG at the time of the change.
ALTER TABLE audit_log ADD COLUMN ccg_code text;

CREATE FUNCTION audit_log_ccg(entity_type text, entity_id text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE entity_type
        WHEN 'return' THEN (SELECT code FROM ccgs WHERE code = split_part(entity_id, '/', 1))
        WHEN 'ccg' THEN (SELECT code FROM ccgs WHERE code = entity_id)
        WHEN 'user' THEN (SELECT ccg_code FROM users WHERE id::text = entity_id)
        WHEN 'order' THEN (SELECT ccg_code FROM orders
                           WHERE order_number::text = ltrim(substring(entity_id FROM '^C([0-9]+)-'), '0') LIMIT 1)
        WHEN 'service_instance' THEN (SELECT ccg_code FROM service_instances
                                      WHERE id::text = substring(entity_id FROM '^SI([0-9]+)-'))
        WHEN 'agreement' THEN (SELECT ccg_code FROM continuity_agreements WHERE id::text = entity_id)
        WHEN 'procurement' THEN (SELECT ccg_code FROM procurements WHERE id::text = entity_id)
        WHEN 'practice' THEN (SELECT ccg_code FROM practices WHERE code = entity_id)
    END
$$;

CREATE FUNCTION audit_log_set_ccg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ccg_code IS NULL THEN
        NEW.ccg_code := audit_log_ccg(NEW.entity_type, NEW.entity_id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_ccg BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_set_ccg();
UPDATE audit_log SET ccg_code = audit_log_ccg(entity_type, entity_id);

-- The log is read newest first, a page at a time, whole or filtered by
-- who, CCG, kind of object (audit_log_entity_idx serves the object).
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at DESC, id DESC);
CREATE INDEX audit_log_ccg_idx ON audit_log (ccg_code, at DESC, id DESC) WHERE ccg_code IS NOT NULL;
CREATE INDEX audit_log_type_idx ON audit_log (entity_type, at DESC, id DESC);

-- The admin's user list is searched by name or email.
CREATE INDEX users_role_idx ON users (role, active);
