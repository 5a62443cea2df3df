-- governed-chat schema, version 1.
--
-- Operational metadata only. No column can hold user text, model output or reasoning:
-- every text column is either an id with a CHECK on its exact shape or a category with a
-- CHECK on its exact set of values (the strings of `domain::Outcome` / `domain::Category`).
-- Every row carries `expires_at` (indexed); the reaper deletes rows past it.
-- Row level security is enabled on every table with no policy, so the Supabase `anon` and
-- `authenticated` roles read nothing even if they are granted privileges.

-- Sessions, with their quota windows (fixed windows that start at the first turn in them).
CREATE TABLE sessions (
    id                  text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    turn_count          bigint      NOT NULL DEFAULT 0 CHECK (turn_count >= 0),
    minute_window_start timestamptz NOT NULL DEFAULT now(),
    minute_count        integer     NOT NULL DEFAULT 0 CHECK (minute_count >= 0),
    day_window_start    timestamptz NOT NULL DEFAULT now(),
    day_count           integer     NOT NULL DEFAULT 0 CHECK (day_count >= 0)
);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- New-session limiter per client address. The address is never stored: only its keyed
-- HMAC-SHA256 (ADDRESS_HASH_KEY), hex encoded. Rows live as long as a session would.
CREATE TABLE address_limits (
    address_hash        text        PRIMARY KEY CHECK (address_hash ~ '^[0-9a-f]{64}$'),
    window_start        timestamptz NOT NULL DEFAULT now(),
    new_sessions        integer     NOT NULL DEFAULT 0 CHECK (new_sessions >= 0),
    expires_at          timestamptz NOT NULL
);
CREATE INDEX address_limits_expires_at_idx ON address_limits (expires_at);

-- One row per finished turn: ids, times, categories, sizes in characters, durations.
CREATE TABLE requests (
    request_id          text        NOT NULL CHECK (request_id ~ '^[A-Za-z0-9._-]{8,64}$'),
    session_id          text        CHECK (session_id ~ '^[0-9a-f]{64}$'),
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz NOT NULL,
    outcome             text        NOT NULL CHECK (outcome IN ('accepted', 'refused', 'aborted')),
    category            text        CHECK (category IN (
                            'policy.prompt_injection',
                            'policy.system_prompt_extraction',
                            'policy.input_too_long',
                            'policy.system_prompt_leak',
                            'quota',
                            'provider.timeout',
                            'provider.unavailable',
                            'provider.bad_response',
                            'provider.rate_limited',
                            'dependency.database',
                            'dependency.shutting_down',
                            'internal')),
    http_status         smallint    NOT NULL CHECK (http_status BETWEEN 100 AND 599),
    input_chars         bigint      NOT NULL CHECK (input_chars >= 0),
    output_chars        bigint      NOT NULL CHECK (output_chars >= 0),
    reasoning_ms        bigint      CHECK (reasoning_ms >= 0),
    expression_ms       bigint      CHECK (expression_ms >= 0),
    provider_status     smallint    CHECK (provider_status BETWEEN 100 AND 599),
    expires_at          timestamptz NOT NULL,
    -- The writer retries a batch whose commit it could not confirm; this makes that idempotent.
    PRIMARY KEY (request_id, started_at)
);
CREATE INDEX requests_expires_at_idx ON requests (expires_at);
CREATE INDEX requests_finished_at_idx ON requests (finished_at);

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE address_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE requests ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON TABLE sessions, address_limits, requests FROM PUBLIC;

-- On Supabase, default privileges grant new tables to these roles; take that back. RLS
-- without a policy already hides every row from them, this removes the grant as well.
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('REVOKE ALL ON TABLE sessions, address_limits, requests FROM %I', role_name);
        END IF;
    END LOOP;
END
$$;
