//! Admission: one call of the server-side function `gc_admit` (migrations/0005, rewritten
//! in 0006), in one round trip and one implicit transaction. The function finds or creates
//! the session and counts the turn against the session's, the user's and the address's
//! quotas, exactly across replicas (row locks serialize concurrent turns). Its inner
//! statements are planned once per server connection, so this works at full speed through
//! any pooler without named prepared statements.
use super::{discard, error, PgStore};
use crate::domain::SessionId;
use crate::store::address::Identities;
use crate::store::{Admission, AdmissionRequest, StoreError};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};

/// $1 session sent, $2 fresh id, $3 address hash, $4 user hash, $5 session TTL seconds,
/// $6/$7 session per minute/day, $8 new sessions per address per hour, $9 turns per address
/// per hour, $10/$11 user per minute/day, $12 lock timeout in milliseconds.
const ADMIT: &str = "SELECT admitted, new_session, session_id
    FROM gc_admit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// The SQLSTATE `gc_admit` raises to refuse a turn after it wrote something: raising rolls
/// the turn's writes back. Its message is `continuing` when the turn continued its session.
const REFUSED: &str = "GC429";

fn is_refusal(err: &tokio_postgres::Error) -> bool {
    err.code().map(SqlState::code) == Some(REFUSED)
}

fn limit(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl PgStore {
    pub(crate) async fn admit(&self, request: AdmissionRequest) -> Result<Admission, StoreError> {
        let Identities { address, user } = self.hasher.identities(&request);
        let sent = request.session_id;
        let fresh = SessionId::generate();
        let quota = &self.quota;
        let ttl = self.session_ttl.as_secs_f64();
        let lock_timeout = i32::try_from(self.query_timeout.as_millis().max(1)).unwrap_or(i32::MAX);
        let sent_id = sent.as_ref().map(SessionId::as_str);
        let fresh_id = fresh.as_str();
        let limits = [
            limit(quota.per_minute),
            limit(quota.per_day),
            limit(quota.new_sessions_per_hour),
            limit(quota.turns_per_address_per_hour),
            limit(quota.user_per_minute),
            limit(quota.user_per_day),
            lock_timeout,
        ];
        let [per_minute, per_day, new_sessions, turns, user_minute, user_day, lock] = &limits;
        let params: [(&(dyn ToSql + Sync), Type); 12] = [
            (&sent_id, Type::TEXT),
            (&fresh_id, Type::TEXT),
            (&address, Type::TEXT),
            (&user, Type::TEXT),
            (&ttl, Type::FLOAT8),
            (per_minute, Type::INT4),
            (per_day, Type::INT4),
            (new_sessions, Type::INT4),
            (turns, Type::INT4),
            (user_minute, Type::INT4),
            (user_day, Type::INT4),
            (lock, Type::INT4),
        ];
        let client = self.admission.client().await?;
        let outcome =
            tokio::time::timeout(self.query_timeout, client.query_typed(ADMIT, &params)).await;
        let rows = match outcome {
            Ok(Err(err)) if is_refusal(&err) => {
                // Refused after a write: the function rolled the whole turn back.
                let continued = err.as_db_error().map(|db| db.message()) == Some("continuing");
                return Ok(Admission::OverQuota {
                    session_id: if continued { sent } else { None },
                });
            }
            Ok(rows) => rows.map_err(error::from_pg)?,
            Err(_) => {
                discard(client);
                return Err(StoreError::Timeout);
            }
        };
        let row = rows
            .first()
            .ok_or_else(|| StoreError::Unavailable("admission returned no row".to_owned()))?;
        let admitted: bool = row.try_get(0).map_err(error::from_pg)?;
        let new_session: bool = row.try_get(1).map_err(error::from_pg)?;
        let session: Option<String> = row.try_get(2).map_err(error::from_pg)?;
        // The function answers with one of the ids it was given (sent or fresh), or none.
        let session_id = match session {
            None => None,
            Some(id) if id == fresh.as_str() => Some(fresh),
            Some(_) => sent,
        };
        Ok(match (admitted, session_id) {
            (true, Some(session_id)) => Admission::Admitted {
                session_id,
                new_session,
            },
            (true, None) => {
                return Err(StoreError::Unavailable(
                    "admission admitted a turn without a session".to_owned(),
                ))
            }
            (false, session_id) => Admission::OverQuota { session_id },
        })
    }
}
