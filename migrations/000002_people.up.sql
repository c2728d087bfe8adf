-- People, their sessions, sign-in throttling, set-password links and the audit log.

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name           text NOT NULL,
    role           text NOT NULL CHECK (role IN ('buyer', 'reviewer', 'finance', 'admin')),
    -- A buyer belongs to exactly one CCG; nobody else belongs to one.
    ccg_code       text REFERENCES ccgs (code),
    -- argon2id in PHC string form; NULL until the person sets a password.
    password_hash  text,
    active         boolean NOT NULL DEFAULT true,
    -- Bumped on deactivation and password change: sessions carrying an older
    -- epoch are ended on their next request.
    session_epoch  integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'buyer') = (ccg_code IS NOT NULL))
);
CREATE UNIQUE INDEX users_email_idx ON users (email);
CREATE INDEX users_ccg_idx ON users (ccg_code) WHERE ccg_code IS NOT NULL;

-- The scs session store (github.com/alexedwards/scs/pgxstore).
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Failed sign-ins, by account and by client address, for throttling.
CREATE TABLE login_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL,
    address    text NOT NULL,
    failed_at  timestamptz NOT NULL
);
CREATE INDEX login_failures_email_idx ON login_failures (email, failed_at);
CREATE INDEX login_failures_address_idx ON login_failures (address, failed_at);

-- One-time set-password links. Only a hash of the token is stored.
CREATE TABLE password_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_tokens_user_idx ON password_tokens (user_id);

-- Every change, written in the transaction that makes it.
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL,
    -- NULL for changes made by the system (seed, imports, jobs).
    actor_id     bigint REFERENCES users (id),
    action       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,
    before       jsonb,
    after        jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, at);
