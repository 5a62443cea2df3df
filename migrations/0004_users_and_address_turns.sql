-- governed-chat 0004: verified users and per-address turns.
--
-- * users: per-user quota windows across all of a user's sessions. The user id (Supabase
--   `sub`) is never stored: only its keyed HMAC-SHA256 (ADDRESS_HASH_KEY, domain-separated
--   from addresses), hex encoded. A row lives one day (rounded up to the next hour) past the
--   user's last turn, as long as its day window can matter, then the reaper deletes it.
-- * sessions.user_hash: the user who created the session (NULL: anonymous). A session
--   continues only for the same identity; anyone else gets a session of their own.
-- * address_limits.turns: admitted turns per client address in the hourly window
--   (TURNS_PER_ADDRESS_PER_HOUR), counted with the new-session limit in the same row.
-- * schema_migrations gets the REVOKE block the data tables have.
CREATE TABLE users (
    user_hash           text        PRIMARY KEY CHECK (user_hash ~ '^[0-9a-f]{64}$'),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    minute_window_start timestamptz NOT NULL DEFAULT now(),
    minute_count        integer     NOT NULL DEFAULT 0 CHECK (minute_count >= 0),
    day_window_start    timestamptz NOT NULL DEFAULT now(),
    day_count           integer     NOT NULL DEFAULT 0 CHECK (day_count >= 0),
    expires_at          timestamptz NOT NULL
);
CREATE INDEX users_expires_at_idx ON users (expires_at);

-- Room on each page for the new version of a row updated in place (HOT updates, see 0005):
-- every turn updates one address row and, for a verified user, one user row.
ALTER TABLE users SET (fillfactor = 50);
ALTER TABLE address_limits SET (fillfactor = 50);

ALTER TABLE sessions ADD COLUMN user_hash text CHECK (user_hash ~ '^[0-9a-f]{64}$');

ALTER TABLE address_limits ADD COLUMN turns integer NOT NULL DEFAULT 0 CHECK (turns >= 0);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON TABLE users, schema_migrations FROM PUBLIC;

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('REVOKE ALL ON TABLE users, schema_migrations FROM %I', role_name);
        END IF;
    END LOOP;
END
$$;
