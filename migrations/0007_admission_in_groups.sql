-- governed-chat 0007: admissions that arrive together are sent together.
--
-- Under load, a replica's concurrent turns used to wait for Postgres one round trip each:
-- per admission, the client's and the server's socket work, the TLS records, the parsing
-- of the outer statement and its executor start. `gc_admit_each` takes a group of
-- admissions in one call and runs `gc_admit` for each, in the order given, committing
-- after each one. So every admission is still its own transaction, with the same row locks
-- held for the same short time, the same lock order (session, user, address) and the same
-- `now()` as a call of its own: the decisions are those of calling `gc_admit` once per
-- turn in that order, and two groups can no more deadlock than two single calls. What the
-- group saves is the round trip and the statement around the work, not the work. The
-- measurements are in docs/BENCHMARKS.md.
--
-- The caller (backend/store/pg/admission_groups.rs) sends a group only while another call
-- of the same worker is in flight; a turn that finds its worker idle calls `gc_admit`
-- directly, as before.
--
-- An admission that fails does not fail the others: its SQLSTATE is returned in `error`
-- (and, for GC429, its message in `refusal`: `continuing` or `new`), and the group goes on
-- with the next one. Each admission's transaction commits on its own, so a failure after
-- some admissions leaves those admitted, as separate calls would.
--
-- A procedure can commit only when it is called outside a transaction block; the caller
-- sends `CALL` as one statement of its own (through a transaction-mode pooler as well: the
-- server connection stays with the client until the call returns).

CREATE PROCEDURE gc_admit_each(
    p_session_ids           text[],
    p_fresh_ids             text[],
    p_address_hashes        text[],
    p_user_hashes           text[],
    p_session_ttl_seconds   float8,
    p_session_per_minute    integer,
    p_session_per_day       integer,
    p_new_sessions_per_hour integer,
    p_turns_per_hour        integer,
    p_user_per_minute       integer,
    p_user_per_day          integer,
    p_lock_timeout_ms       integer,
    INOUT admitted          boolean[] DEFAULT NULL,
    INOUT new_session       boolean[] DEFAULT NULL,
    INOUT session_id        text[] DEFAULT NULL,
    INOUT error             text[] DEFAULT NULL,
    INOUT refusal           text[] DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    outcome record;
BEGIN
    admitted := '{}';
    new_session := '{}';
    session_id := '{}';
    error := '{}';
    refusal := '{}';
    FOR i IN 1 .. coalesce(array_length(p_fresh_ids, 1), 0) LOOP
        -- `gc_admit` sets this too, but inside the block below: a block that fails rolls its
        -- settings back with its writes, and the COMMIT of a turn refused after a write would
        -- then wait for a WAL flush, which the single call never does.
        PERFORM set_config('synchronous_commit', 'off', true);
        BEGIN
            SELECT * INTO outcome
              FROM gc_admit(p_session_ids[i], p_fresh_ids[i], p_address_hashes[i],
                            p_user_hashes[i], p_session_ttl_seconds, p_session_per_minute,
                            p_session_per_day, p_new_sessions_per_hour, p_turns_per_hour,
                            p_user_per_minute, p_user_per_day, p_lock_timeout_ms);
            admitted[i] := outcome.admitted;
            new_session[i] := outcome.new_session;
            session_id[i] := outcome.session_id;
            error[i] := NULL;
            refusal[i] := NULL;
        EXCEPTION WHEN OTHERS THEN
            -- The block's subtransaction rolled this admission's writes back.
            admitted[i] := false;
            new_session[i] := false;
            session_id[i] := NULL;
            error[i] := SQLSTATE;
            refusal[i] := CASE WHEN SQLSTATE = 'GC429' THEN SQLERRM END;
        END;
        COMMIT;
    END LOOP;
END
$$;
