-- governed-chat 0008: ids checked without a costly pattern, and the writer's batch insert
-- planned once per connection.
--
-- A profile of the Postgres backend that runs the metadata writer's batches
-- (docs/BENCHMARKS.md, "seventh round") found a fifth of its time in the regex engine: every
-- row was checked against `^[A-Za-z0-9._-]{8,64}$` (request id) and `^[0-9a-f]{64}$`
-- (session id), and the engine runs those bounded repetitions slowly (13 µs per row for the
-- two, measured over 200,000 rows). The `ltrim` form of `gc_hex64` (migrations/0006) is not
-- much cheaper in a UTF-8 database: it compares every character with every character of
-- the set (9 µs per row for the two). Another seventh of the writer's backend went to
-- parsing, analysing and planning the batch's INSERT again for every batch.
--
-- 1. An id is checked as a length and a search for any character outside its set
--    (`!~ '[^...]'`): the same rule, 0.7 µs per row for the two. Every character the sets
--    allow is one byte, so `octet_length` is the length in characters whenever no other
--    character is found. Regex ranges compare code points, whatever the collation. This
--    holds for the request table's two ids and for the `gc_hex64` domain (session ids, user
--    and address hashes in the admission tables). A violation is still SQLSTATE 23514
--    (check_violation), and the constraints keep their names. Adding them checks the
--    existing rows (a scan, not a rewrite).
-- 2. The batch insert is a function, so its plan is prepared once per server connection
--    (through a transaction-mode pooler as well) instead of once per batch. Its statement is
--    the one the writer sent before (backend/store/pg/requests.rs): the batch as typed
--    arrays, `unnest`ed into rows, and idempotent, so a retried batch inserts nothing twice.

ALTER TABLE requests
    DROP CONSTRAINT requests_request_id_check,
    DROP CONSTRAINT requests_session_id_check,
    ADD CONSTRAINT requests_request_id_check CHECK (
        octet_length(request_id) BETWEEN 8 AND 64 AND request_id !~ '[^A-Za-z0-9._-]'),
    ADD CONSTRAINT requests_session_id_check CHECK (
        octet_length(session_id) = 64 AND session_id !~ '[^0-9a-f]');

ALTER DOMAIN gc_hex64 DROP CONSTRAINT gc_hex64_check;
ALTER DOMAIN gc_hex64 ADD CONSTRAINT gc_hex64_check CHECK (
    octet_length(VALUE) = 64 AND VALUE !~ '[^0-9a-f]');

CREATE FUNCTION gc_insert_requests(
    p_request_ids       text[],
    p_session_ids       text[],
    p_started_at        timestamptz[],
    p_finished_at       timestamptz[],
    p_outcomes          text[],
    p_categories        text[],
    p_http_statuses     smallint[],
    p_input_chars       bigint[],
    p_output_chars      bigint[],
    p_reasoning_ms      bigint[],
    p_expression_ms     bigint[],
    p_provider_statuses smallint[],
    p_first_byte_ms     bigint[],
    p_ttl_seconds       float8
) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO requests (request_id, session_id, started_at, finished_at, outcome, category,
                          http_status, input_chars, output_chars, reasoning_ms, expression_ms,
                          provider_status, first_byte_ms, expires_at)
    SELECT r.request_id, r.session_id, r.started_at, r.finished_at, r.outcome, r.category,
           r.http_status, r.input_chars, r.output_chars, r.reasoning_ms, r.expression_ms,
           r.provider_status, r.first_byte_ms, r.finished_at + make_interval(secs => p_ttl_seconds)
    FROM unnest(p_request_ids, p_session_ids, p_started_at, p_finished_at, p_outcomes,
                p_categories, p_http_statuses, p_input_chars, p_output_chars, p_reasoning_ms,
                p_expression_ms, p_provider_statuses, p_first_byte_ms)
         AS r(request_id, session_id, started_at, finished_at, outcome, category, http_status,
              input_chars, output_chars, reasoning_ms, expression_ms, provider_status,
              first_byte_ms)
    ON CONFLICT (request_id, started_at) DO NOTHING;
END
$$;

REVOKE ALL ON FUNCTION gc_insert_requests(text[], text[], timestamptz[], timestamptz[], text[],
                                          text[], smallint[], bigint[], bigint[], bigint[],
                                          bigint[], smallint[], bigint[], float8) FROM PUBLIC;

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('REVOKE ALL ON FUNCTION gc_insert_requests(text[], text[], '
                           'timestamptz[], timestamptz[], text[], text[], smallint[], bigint[], '
                           'bigint[], bigint[], bigint[], smallint[], bigint[], float8) FROM %I',
                           role_name);
        END IF;
    END LOOP;
END
$$;
