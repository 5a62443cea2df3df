//! Admission: find or create the session and count the turn against its quotas, atomically
//! in Postgres so any number of replicas share one limit. Each step is one statement (see
//! `pipeline.rs`: one round trip): counting a turn is one UPDATE whose WHERE holds the quota
//! check (the row lock serializes concurrent turns; READ COMMITTED re-checks the WHERE on the
//! latest row), and a new session is one INSERT gated by the per-address limiter's upsert in
//! the same statement.
use super::PgStore;
use crate::domain::SessionId;
use crate::store::{Admission, AdmissionRequest, StoreError};
use tokio_postgres::types::Type;

/// Count a turn on a live session that is under both quotas. $1 id, $2 TTL seconds,
/// $3 per-minute limit, $4 per-day limit.
const COUNT_TURN: &str = "
    UPDATE sessions SET
        minute_count = CASE WHEN minute_window_start > now() - interval '1 minute'
                            THEN minute_count + 1 ELSE 1 END,
        minute_window_start = CASE WHEN minute_window_start > now() - interval '1 minute'
                                   THEN minute_window_start ELSE now() END,
        day_count = CASE WHEN day_window_start > now() - interval '1 day'
                         THEN day_count + 1 ELSE 1 END,
        day_window_start = CASE WHEN day_window_start > now() - interval '1 day'
                                THEN day_window_start ELSE now() END,
        turn_count = turn_count + 1,
        last_seen_at = now(),
        expires_at = now() + make_interval(secs => $2)
    WHERE id = $1
      AND expires_at > now()
      AND (minute_window_start <= now() - interval '1 minute' OR minute_count < $3)
      AND (day_window_start <= now() - interval '1 day' OR day_count < $4)
    RETURNING turn_count";

const IS_LIVE: &str = "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND expires_at > now())";

/// $1 id, $2 TTL seconds, $3 turns counted (1, or 0 when a quota is zero). One row back.
const CREATE_SESSION: &str = "
    INSERT INTO sessions (id, created_at, last_seen_at, expires_at, turn_count,
                          minute_window_start, minute_count, day_window_start, day_count)
    VALUES ($1, now(), now(), now() + make_interval(secs => $2), $3, now(), $3, now(), $3)
    RETURNING 1";

/// The per-address limiter and the new session in one statement: the session is created
/// only when the limiter counted it. $1 id, $2 TTL seconds, $3 turns counted, $4 address
/// hash, $5 limit. One row back when created, none when the address is over its limit.
const CREATE_SESSION_FOR_ADDRESS: &str = "
    WITH limiter AS (
        INSERT INTO address_limits AS a (address_hash, window_start, new_sessions, expires_at)
        VALUES ($4, now(), 1, now() + make_interval(secs => $2))
        ON CONFLICT (address_hash) DO UPDATE SET
            new_sessions = CASE WHEN a.window_start > now() - interval '1 hour' AND a.expires_at > now()
                                THEN a.new_sessions + 1 ELSE 1 END,
            window_start = CASE WHEN a.window_start > now() - interval '1 hour' AND a.expires_at > now()
                                THEN a.window_start ELSE now() END,
            expires_at = now() + make_interval(secs => $2)
        WHERE a.window_start <= now() - interval '1 hour' OR a.expires_at <= now() OR a.new_sessions < $5
        RETURNING 1
    )
    INSERT INTO sessions (id, created_at, last_seen_at, expires_at, turn_count,
                          minute_window_start, minute_count, day_window_start, day_count)
    SELECT $1, now(), now(), now() + make_interval(secs => $2), $3, now(), $3, now(), $3
    WHERE EXISTS (SELECT 1 FROM limiter)
    RETURNING 1";

impl PgStore {
    pub(crate) async fn admit(&self, request: AdmissionRequest) -> Result<Admission, StoreError> {
        if let Some(session_id) = request.session_id {
            match self.continue_session(&session_id).await? {
                Some(true) => {
                    return Ok(Admission::Admitted {
                        session_id,
                        new_session: false,
                    })
                }
                Some(false) => {
                    return Ok(Admission::OverQuota {
                        session_id: Some(session_id),
                    })
                }
                // Unknown or expired: the turn gets a fresh session, as if none was sent.
                None => {}
            }
        }
        let address_hash = request
            .client_address
            .as_deref()
            .map(|address| self.hasher.hash(address));
        self.create_session(address_hash).await
    }

    /// `Some(true)`: a live session under its quotas, this turn counted. `Some(false)`: live
    /// but over a quota. `None`: unknown or expired. One round trip in the common case.
    async fn continue_session(&self, session_id: &SessionId) -> Result<Option<bool>, StoreError> {
        let id = session_id.as_str();
        let ttl = self.session_ttl.as_secs_f64();
        let per_minute = i32::try_from(self.quota.per_minute).unwrap_or(i32::MAX);
        let per_day = i32::try_from(self.quota.per_day).unwrap_or(i32::MAX);
        let counted = self
            .one_statement(
                COUNT_TURN,
                &[
                    (&id, Type::TEXT),
                    (&ttl, Type::FLOAT8),
                    (&per_minute, Type::INT4),
                    (&per_day, Type::INT4),
                ],
            )
            .await?;
        if !counted.is_empty() {
            return Ok(Some(true));
        }
        let live = self.one_statement(IS_LIVE, &[(&id, Type::TEXT)]).await?;
        let live = live
            .first()
            .map(|row| row.try_get::<_, bool>(0))
            .transpose()
            .map_err(super::error::from_pg)?
            .unwrap_or(false);
        Ok(live.then_some(false))
    }

    /// A fresh session with this turn counted, unless the address is over its hourly
    /// new-session limit (then no session is created).
    async fn create_session(&self, address_hash: Option<String>) -> Result<Admission, StoreError> {
        let fresh = SessionId::generate();
        let id = fresh.as_str();
        let ttl = self.session_ttl.as_secs_f64();
        let admitted = self.quota.per_minute > 0 && self.quota.per_day > 0;
        let turns = i32::from(admitted);
        let limit = i32::try_from(self.quota.new_sessions_per_hour).unwrap_or(i32::MAX);
        let created = match &address_hash {
            Some(_) if limit == 0 => false,
            Some(hash) => !self
                .one_statement(
                    CREATE_SESSION_FOR_ADDRESS,
                    &[
                        (&id, Type::TEXT),
                        (&ttl, Type::FLOAT8),
                        (&turns, Type::INT4),
                        (hash, Type::TEXT),
                        (&limit, Type::INT4),
                    ],
                )
                .await?
                .is_empty(),
            None => !self
                .one_statement(
                    CREATE_SESSION,
                    &[
                        (&id, Type::TEXT),
                        (&ttl, Type::FLOAT8),
                        (&turns, Type::INT4),
                    ],
                )
                .await?
                .is_empty(),
        };
        Ok(match (created, admitted) {
            (false, _) => Admission::OverQuota { session_id: None },
            (true, true) => Admission::Admitted {
                session_id: fresh,
                new_session: true,
            },
            (true, false) => Admission::OverQuota {
                session_id: Some(fresh),
            },
        })
    }
}
