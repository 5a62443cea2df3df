-- governed-chat 0005: admission as one call of a server-side function, `gc_admit`.
--
-- One statement per turn, in its own (implicit) transaction: it works the same directly,
-- through a session-mode pooler and through a transaction-mode pooler (pgbouncer, Supabase's
-- pooler), needs no named prepared statement, and PL/pgSQL caches the plans of the statements
-- inside it per server connection, so nothing is parsed or planned again on the hot path.
--
-- The function decides, exactly across replicas:
--   1. the session: continued when it is live and was created by the same identity (the same
--      user hash, or anonymous for both); otherwise the turn gets the fresh id;
--   2. the session's per-minute / per-day quotas (fixed windows from their first turn);
--   3. the user's per-minute / per-day quotas across all of the user's sessions;
--   4. the address's hourly window: new sessions and admitted turns.
-- Rows are locked in that order (session, user, address), so two turns cannot deadlock. The
-- session and user rows are read and locked first, then written; the address row, which
-- every turn from one address shares, is checked and counted last, in one statement just
-- before the commit, so it is held for the shortest time. If the address refuses the turn,
-- the session and user rows get their old values back (they were locked all along, nobody
-- saw the change): a refused turn changes no counter.
--
-- Hot rows stay HOT: an update that leaves every indexed column as it was is a heap-only
-- tuple update (no new index entries), which keeps a row every turn updates (one address's
-- window, one user's) cheap. So `address_limits.expires_at` is the end of its window (it
-- changes once an hour) and `users.expires_at` moves in whole hours (at least a day after
-- the user's last turn). `sessions.expires_at` slides exactly with every turn (its TTL can be
-- seconds); those updates are not HOT.
--
-- `synchronous_commit = off` for this transaction only: a database crash may forget the last
-- fraction of a second of counts (nothing is double-admitted or corrupted), and no turn waits
-- for a WAL flush. `lock_timeout` bounds any wait for a row another turn holds.
CREATE FUNCTION gc_admit(
    p_session_id            text,
    p_fresh_id              text,
    p_address_hash          text,
    p_user_hash             text,
    p_session_ttl_seconds   float8,
    p_session_per_minute    integer,
    p_session_per_day       integer,
    p_new_sessions_per_hour integer,
    p_turns_per_hour        integer,
    p_user_per_minute       integer,
    p_user_per_day          integer,
    p_lock_timeout_ms       integer,
    OUT admitted            boolean,
    OUT new_session         boolean,
    OUT session_id          text)
LANGUAGE plpgsql
AS $$
DECLARE
    t              timestamptz := now();
    continuing     boolean := false;
    s_old          sessions%ROWTYPE;
    s_minute_start timestamptz;
    s_minute       integer;
    s_day_start    timestamptz;
    s_day          integer;
    u_old          users%ROWTYPE;
    u_created      boolean := false;
    u_minute_start timestamptz;
    u_minute       integer;
    u_day_start    timestamptz;
    u_day          integer;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true),
            set_config('lock_timeout', p_lock_timeout_ms::text, true);
    admitted := false;
    new_session := false;

    -- 1. The session.
    IF p_session_id IS NOT NULL THEN
        SELECT * INTO s_old
          FROM sessions s
         WHERE s.id = p_session_id
           AND s.expires_at > t
           AND s.user_hash IS NOT DISTINCT FROM p_user_hash
           FOR UPDATE;
        continuing := FOUND;
    END IF;

    -- 2. Its quotas.
    IF continuing THEN
        session_id := p_session_id;
        s_minute_start := s_old.minute_window_start;
        s_minute := s_old.minute_count;
        s_day_start := s_old.day_window_start;
        s_day := s_old.day_count;
        IF s_minute_start <= t - interval '1 minute' THEN
            s_minute_start := t;
            s_minute := 0;
        END IF;
        IF s_day_start <= t - interval '1 day' THEN
            s_day_start := t;
            s_day := 0;
        END IF;
        IF s_minute >= p_session_per_minute OR s_day >= p_session_per_day THEN
            RETURN;
        END IF;
    ELSIF p_session_per_minute < 1 OR p_session_per_day < 1 THEN
        RETURN;
    END IF;

    -- 3. The user's quotas across sessions.
    IF p_user_hash IS NOT NULL THEN
        LOOP
            SELECT * INTO u_old FROM users u WHERE u.user_hash = p_user_hash FOR UPDATE;
            EXIT WHEN FOUND;
            -- First turn (or the row was reaped a moment ago): create it, then lock it.
            INSERT INTO users (user_hash, last_seen_at, minute_window_start, minute_count,
                               day_window_start, day_count, expires_at)
            VALUES (p_user_hash, t, t, 0, t, 0, date_trunc('hour', t) + interval '25 hours')
            ON CONFLICT (user_hash) DO NOTHING;
            u_created := FOUND;
        END LOOP;
        u_minute_start := u_old.minute_window_start;
        u_minute := u_old.minute_count;
        u_day_start := u_old.day_window_start;
        u_day := u_old.day_count;
        IF u_minute_start <= t - interval '1 minute' THEN
            u_minute_start := t;
            u_minute := 0;
        END IF;
        IF u_day_start <= t - interval '1 day' THEN
            u_day_start := t;
            u_day := 0;
        END IF;
        IF u_minute >= p_user_per_minute OR u_day >= p_user_per_day THEN
            IF u_created THEN
                DELETE FROM users WHERE user_hash = p_user_hash;
            END IF;
            RETURN;
        END IF;
    END IF;
    IF p_address_hash IS NOT NULL
       AND (p_turns_per_hour < 1 OR (NOT continuing AND p_new_sessions_per_hour < 1)) THEN
        IF u_created THEN
            DELETE FROM users WHERE user_hash = p_user_hash;
        END IF;
        RETURN;
    END IF;

    -- The session and the user are within their quotas: count the turn on them.
    IF continuing THEN
        UPDATE sessions SET
            minute_window_start = s_minute_start,
            minute_count = s_minute + 1,
            day_window_start = s_day_start,
            day_count = s_day + 1,
            turn_count = turn_count + 1,
            last_seen_at = t,
            expires_at = t + make_interval(secs => p_session_ttl_seconds)
        WHERE id = p_session_id;
    ELSE
        INSERT INTO sessions (id, created_at, last_seen_at, expires_at, turn_count,
                              minute_window_start, minute_count, day_window_start, day_count,
                              user_hash)
        VALUES (p_fresh_id, t, t, t + make_interval(secs => p_session_ttl_seconds), 1,
                t, 1, t, 1, p_user_hash);
    END IF;
    IF p_user_hash IS NOT NULL THEN
        UPDATE users SET
            last_seen_at = t,
            minute_window_start = u_minute_start,
            minute_count = u_minute + 1,
            day_window_start = u_day_start,
            day_count = u_day + 1,
            expires_at = date_trunc('hour', t) + interval '25 hours'
        WHERE user_hash = p_user_hash;
    END IF;

    -- 4. The address's hourly window: checked and counted in one statement, last.
    IF p_address_hash IS NOT NULL THEN
        INSERT INTO address_limits AS a (address_hash, window_start, new_sessions, turns, expires_at)
        VALUES (p_address_hash, t, CASE WHEN continuing THEN 0 ELSE 1 END, 1, t + interval '1 hour')
        ON CONFLICT (address_hash) DO UPDATE SET
            new_sessions = CASE WHEN a.window_start > t - interval '1 hour'
                                THEN a.new_sessions ELSE 0 END + EXCLUDED.new_sessions,
            turns = CASE WHEN a.window_start > t - interval '1 hour' THEN a.turns ELSE 0 END + 1,
            window_start = CASE WHEN a.window_start > t - interval '1 hour'
                                THEN a.window_start ELSE t END,
            expires_at = CASE WHEN a.window_start > t - interval '1 hour'
                              THEN a.window_start ELSE t END + interval '1 hour'
        WHERE a.window_start <= t - interval '1 hour'
           OR (a.turns < p_turns_per_hour
               AND (continuing OR a.new_sessions < p_new_sessions_per_hour));
        IF NOT FOUND THEN
            -- Refused: put the session and the user back as they were.
            IF continuing THEN
                UPDATE sessions SET
                    minute_window_start = s_old.minute_window_start,
                    minute_count = s_old.minute_count,
                    day_window_start = s_old.day_window_start,
                    day_count = s_old.day_count,
                    turn_count = s_old.turn_count,
                    last_seen_at = s_old.last_seen_at,
                    expires_at = s_old.expires_at
                WHERE id = p_session_id;
            ELSE
                DELETE FROM sessions WHERE id = p_fresh_id;
            END IF;
            IF u_created THEN
                DELETE FROM users WHERE user_hash = p_user_hash;
            ELSIF p_user_hash IS NOT NULL THEN
                UPDATE users SET
                    last_seen_at = u_old.last_seen_at,
                    minute_window_start = u_old.minute_window_start,
                    minute_count = u_old.minute_count,
                    day_window_start = u_old.day_window_start,
                    day_count = u_old.day_count,
                    expires_at = u_old.expires_at
                WHERE user_hash = p_user_hash;
            END IF;
            RETURN;
        END IF;
    END IF;

    admitted := true;
    new_session := NOT continuing;
    IF NOT continuing THEN
        session_id := p_fresh_id;
    END IF;
END
$$;

REVOKE ALL ON FUNCTION gc_admit(text, text, text, text, float8, integer, integer, integer,
                                integer, integer, integer, integer) FROM PUBLIC;

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('REVOKE ALL ON FUNCTION gc_admit(text, text, text, text, float8, '
                           'integer, integer, integer, integer, integer, integer, integer) FROM %I',
                           role_name);
        END IF;
    END LOOP;
END
$$;
