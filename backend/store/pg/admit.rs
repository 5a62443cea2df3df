//! Admission: find or create the session and count the turn against its quotas, atomically
//! in Postgres so any number of replicas share one limit. The quota check and the increment
//! are one UPDATE (the row lock serializes concurrent turns; READ COMMITTED re-checks the
//! WHERE on the latest row), and the per-address limiter is one upsert.
use super::PgStore;
use crate::domain::SessionId;
use crate::store::{Admission, AdmissionRequest, StoreError};
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

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

/// Count one new session for an address hash, unless its hourly window is full.
/// $1 hash, $2 TTL seconds, $3 limit. No row back means over the limit.
const COUNT_NEW_SESSION: &str = "
    INSERT INTO address_limits AS a (address_hash, window_start, new_sessions, expires_at)
    VALUES ($1, now(), 1, now() + make_interval(secs => $2))
    ON CONFLICT (address_hash) DO UPDATE SET
        new_sessions = CASE WHEN a.window_start > now() - interval '1 hour' AND a.expires_at > now()
                            THEN a.new_sessions + 1 ELSE 1 END,
        window_start = CASE WHEN a.window_start > now() - interval '1 hour' AND a.expires_at > now()
                            THEN a.window_start ELSE now() END,
        expires_at = now() + make_interval(secs => $2)
    WHERE a.window_start <= now() - interval '1 hour' OR a.expires_at <= now() OR a.new_sessions < $3
    RETURNING new_sessions";

/// $1 id, $2 TTL seconds, $3 turns counted (1, or 0 when a quota is zero).
const CREATE_SESSION: &str = "
    INSERT INTO sessions (id, created_at, last_seen_at, expires_at, turn_count,
                          minute_window_start, minute_count, day_window_start, day_count)
    VALUES ($1, now(), now(), now() + make_interval(secs => $2), $3, now(), $3, now(), $3)";

impl PgStore {
    pub(crate) async fn admit(&self, request: AdmissionRequest) -> Result<Admission, StoreError> {
        let quota = self.quota;
        let ttl = self.session_ttl.as_secs_f64();
        let existing = request.session_id.as_ref().map(|id| id.as_str().to_owned());
        let address_hash = request
            .client_address
            .as_deref()
            .map(|address| self.hasher.hash(address));
        let fresh = SessionId::generate();
        let fresh_id = fresh.as_str().to_owned();
        let decision = self
            .transact(self.query_timeout, move |tx| {
                Box::pin(async move {
                    if let Some(id) = existing {
                        if let Some(decision) = continue_session(tx, &id, ttl, quota).await? {
                            return Ok(decision);
                        }
                    }
                    if let Some(hash) = address_hash {
                        if !count_new_session(tx, &hash, ttl, quota.new_sessions_per_hour).await? {
                            return Ok(Decision::AddressOverLimit);
                        }
                    }
                    let admitted = quota.per_minute > 0 && quota.per_day > 0;
                    let turns = i32::from(admitted);
                    tx.execute_typed(
                        CREATE_SESSION,
                        &[
                            (&fresh_id, Type::TEXT),
                            (&ttl, Type::FLOAT8),
                            (&turns, Type::INT4),
                        ],
                    )
                    .await?;
                    Ok(if admitted {
                        Decision::Created
                    } else {
                        Decision::CreatedOverQuota
                    })
                })
            })
            .await?;
        Ok(match (decision, request.session_id) {
            (Decision::Continued, Some(session_id)) => Admission::Admitted {
                session_id,
                new_session: false,
            },
            (Decision::SessionOverQuota, session_id) => Admission::OverQuota { session_id },
            (Decision::AddressOverLimit, _) => Admission::OverQuota { session_id: None },
            (Decision::CreatedOverQuota, _) => Admission::OverQuota {
                session_id: Some(fresh),
            },
            (Decision::Created, _) => Admission::Admitted {
                session_id: fresh,
                new_session: true,
            },
            // `Continued` only comes from a session id the client sent.
            (Decision::Continued, None) => Admission::OverQuota { session_id: None },
        })
    }
}

/// What the transaction decided; the ids are attached outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// The live session was under quota; its turn is counted.
    Continued,
    SessionOverQuota,
    AddressOverLimit,
    /// A fresh session was created with this turn counted.
    Created,
    /// A fresh session was created, but a zero quota refuses its first turn.
    CreatedOverQuota,
}

/// `Some` when the session is live: admitted or over quota. `None`: unknown or expired.
async fn continue_session(
    tx: &Transaction<'_>,
    id: &str,
    ttl: f64,
    quota: super::Quotas,
) -> Result<Option<Decision>, tokio_postgres::Error> {
    let per_minute = i32::try_from(quota.per_minute).unwrap_or(i32::MAX);
    let per_day = i32::try_from(quota.per_day).unwrap_or(i32::MAX);
    let counted = tx
        .query_typed(
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
        return Ok(Some(Decision::Continued));
    }
    let live = tx.query_typed_one(IS_LIVE, &[(&id, Type::TEXT)]).await?;
    Ok(live
        .try_get::<_, bool>(0)?
        .then_some(Decision::SessionOverQuota))
}

async fn count_new_session(
    tx: &Transaction<'_>,
    hash: &str,
    ttl: f64,
    limit: u32,
) -> Result<bool, tokio_postgres::Error> {
    if limit == 0 {
        return Ok(false);
    }
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    let rows = tx
        .query_typed(
            COUNT_NEW_SESSION,
            &[
                (&hash, Type::TEXT),
                (&ttl, Type::FLOAT8),
                (&limit, Type::INT4),
            ],
        )
        .await?;
    Ok(!rows.is_empty())
}
