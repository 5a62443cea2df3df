-- governed-chat 0002: per-replica totals of metadata rows the writer had to drop (its queue
-- was full while the database was unreachable), so `governed-chat status` can report them
-- from any machine. Counts only; each row expires like request rows and is reaped.
CREATE TABLE writer_drops (
    writer_id  text PRIMARY KEY CHECK (writer_id ~ '^[0-9a-f]{32}$'),
    dropped    bigint NOT NULL CHECK (dropped >= 0),
    updated_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX writer_drops_expires_at_idx ON writer_drops (expires_at);

ALTER TABLE writer_drops ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON TABLE writer_drops FROM PUBLIC;

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('REVOKE ALL ON TABLE writer_drops FROM %I', role_name);
        END IF;
    END LOOP;
END
$$;
