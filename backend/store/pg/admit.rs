//! Admission: one call of the server-side function `gc_admit` (migrations/0005, rewritten
//! in 0006), in one round trip and one implicit transaction, or, for admissions that
//! arrived together, one call of the procedure `gc_admit_each` (migrations/0007), which
//! runs `gc_admit` for each in its own transaction (`admission_groups.rs` decides which).
//! The function finds or creates the session and counts the turn against the session's,
//! the user's and the address's quotas, exactly across replicas (row locks serialize
//! concurrent turns). Its inner statements are planned once per server connection, so this
//! works at full speed through any pooler without named prepared statements.
use super::error;
use crate::config::QuotaSettings;
use crate::domain::SessionId;
use crate::store::{Admission, StoreError};
use deadpool_postgres::{Object, Pool};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

/// $1 session sent, $2 fresh id, $3 address hash, $4 user hash, $5 session TTL seconds,
/// $6/$7 session per minute/day, $8 new sessions per address per hour, $9 turns per address
/// per hour, $10/$11 user per minute/day, $12 lock timeout in milliseconds.
const ADMIT: &str = "SELECT admitted, new_session, session_id
    FROM gc_admit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// The same parameters, $1 to $4 as arrays with one element per admission; answers one row
/// of arrays, one element per admission, in the same order.
const ADMIT_EACH: &str = "CALL gc_admit_each($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// The SQLSTATE `gc_admit` raises to refuse a turn after it wrote something: raising rolls
/// the turn's writes back. Its message is `continuing` when the turn continued its session.
const REFUSED: &str = "GC429";
const CONTINUING: &str = "continuing";

/// One turn's admission: what it sends besides the store's [`Terms`].
pub(super) struct Ask {
    /// The session id the client sent, if any.
    pub(super) sent: Option<SessionId>,
    /// The id a new session gets.
    pub(super) fresh: SessionId,
    pub(super) address: Option<String>,
    pub(super) user: Option<String>,
}

/// What every admission of a store sends: the session TTL, the limits and the time bounds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Terms {
    pub(super) session_ttl_seconds: f64,
    /// Session per minute and per day, new sessions and turns per address per hour, user per
    /// minute and per day.
    pub(super) limits: [i32; 6],
    pub(super) lock_timeout_ms: i32,
    /// The bound on one call, single or grouped.
    pub(super) timeout: Duration,
}

impl Terms {
    /// Fixed for the store's life: built once, when it connects.
    pub(super) fn new(session_ttl: Duration, quota: &QuotaSettings, timeout: Duration) -> Terms {
        let limit = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
        Terms {
            session_ttl_seconds: session_ttl.as_secs_f64(),
            limits: [
                limit(quota.per_minute),
                limit(quota.per_day),
                limit(quota.new_sessions_per_address_per_hour),
                limit(quota.turns_per_address_per_hour),
                limit(quota.user_per_minute),
                limit(quota.user_per_day),
            ],
            lock_timeout_ms: i32::try_from(timeout.as_millis().max(1)).unwrap_or(i32::MAX),
            timeout,
        }
    }

    fn params<'a>(
        &'a self,
        asks: [(&'a (dyn ToSql + Sync), Type); 4],
    ) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
        let mut params = Vec::with_capacity(12);
        params.extend(asks);
        params.push((&self.session_ttl_seconds, Type::FLOAT8));
        params.extend(
            self.limits
                .iter()
                .map(|limit| (limit as &(dyn ToSql + Sync), Type::INT4)),
        );
        params.push((&self.lock_timeout_ms, Type::INT4));
        params
    }
}

/// One admission, one call of `gc_admit`.
pub(super) async fn admit_one(
    pool: &Pool,
    terms: &Terms,
    ask: Ask,
) -> Result<Admission, StoreError> {
    let sent = ask.sent.as_ref().map(SessionId::as_str);
    let fresh = ask.fresh.as_str();
    let params = terms.params([
        (&sent, Type::TEXT),
        (&fresh, Type::TEXT),
        (&ask.address, Type::TEXT),
        (&ask.user, Type::TEXT),
    ]);
    let reply = match call(pool, terms, ADMIT, &params).await {
        Ok(rows) => {
            let row = rows
                .first()
                .ok_or_else(|| StoreError::Unavailable("admission returned no row".to_owned()))?;
            Reply::Answered {
                admitted: row.try_get(0).map_err(error::from_pg)?,
                new_session: row.try_get(1).map_err(error::from_pg)?,
                session: row.try_get(2).map_err(error::from_pg)?,
            }
        }
        Err(Failure::Refused { continuing }) => Reply::RefusedAfterWrite { continuing },
        Err(Failure::Store(err)) => return Err(err),
    };
    reply.settle(ask)
}

/// Admissions that arrived together, one call of `gc_admit_each`: one answer per ask, in
/// order. When the call itself fails, every ask gets its error.
pub(super) async fn admit_group(
    pool: &Pool,
    terms: &Terms,
    asks: Vec<Ask>,
) -> Vec<Result<Admission, StoreError>> {
    match group_rows(pool, terms, &asks).await {
        Ok(answers) => asks
            .into_iter()
            .zip(answers)
            .map(|(ask, reply)| reply.and_then(|reply| reply.settle(ask)))
            .collect(),
        Err(err) => asks.iter().map(|_| Err(err.clone())).collect(),
    }
}

async fn group_rows(
    pool: &Pool,
    terms: &Terms,
    asks: &[Ask],
) -> Result<Vec<Result<Reply, StoreError>>, StoreError> {
    let sent: Vec<Option<&str>> = asks
        .iter()
        .map(|a| a.sent.as_ref().map(SessionId::as_str))
        .collect();
    let fresh: Vec<&str> = asks.iter().map(|a| a.fresh.as_str()).collect();
    let addresses: Vec<Option<&str>> = asks.iter().map(|a| a.address.as_deref()).collect();
    let users: Vec<Option<&str>> = asks.iter().map(|a| a.user.as_deref()).collect();
    let params = terms.params([
        (&sent, Type::TEXT_ARRAY),
        (&fresh, Type::TEXT_ARRAY),
        (&addresses, Type::TEXT_ARRAY),
        (&users, Type::TEXT_ARRAY),
    ]);
    let rows = call(pool, terms, ADMIT_EACH, &params)
        .await
        .map_err(|failure| match failure {
            Failure::Store(err) => err,
            // The procedure catches every refusal itself.
            Failure::Refused { .. } => {
                StoreError::Unavailable("a group admission raised a refusal".to_owned())
            }
        })?;
    let row = rows
        .first()
        .ok_or_else(|| StoreError::Unavailable("group admission returned no row".to_owned()))?;
    let columns = GroupColumns::read(row).map_err(error::from_pg)?;
    if columns.admitted.len() != asks.len() {
        return Err(StoreError::Unavailable(format!(
            "group admission answered {} of {} admissions",
            columns.admitted.len(),
            asks.len()
        )));
    }
    Ok((0..asks.len()).map(|i| columns.answer(i)).collect())
}

/// The arrays `gc_admit_each` answers, one element per admission.
struct GroupColumns {
    admitted: Vec<Option<bool>>,
    new_session: Vec<Option<bool>>,
    session_id: Vec<Option<String>>,
    error: Vec<Option<String>>,
    refusal: Vec<Option<String>>,
}

impl GroupColumns {
    fn read(row: &Row) -> Result<GroupColumns, tokio_postgres::Error> {
        Ok(GroupColumns {
            admitted: row.try_get(0)?,
            new_session: row.try_get(1)?,
            session_id: row.try_get(2)?,
            error: row.try_get(3)?,
            refusal: row.try_get(4)?,
        })
    }

    /// The `i`th admission's reply, or the error of that admission alone.
    fn answer(&self, i: usize) -> Result<Reply, StoreError> {
        let at = |column: &Vec<Option<String>>| column.get(i).cloned().flatten();
        match (at(&self.error), at(&self.refusal)) {
            (Some(code), Some(message)) if code == REFUSED => Ok(Reply::RefusedAfterWrite {
                continuing: message == CONTINUING,
            }),
            (Some(code), _) => Err(error::from_sqlstate(&code)),
            (None, _) => Ok(Reply::Answered {
                admitted: self.admitted.get(i).copied().flatten().unwrap_or(false),
                new_session: self.new_session.get(i).copied().flatten().unwrap_or(false),
                session: at(&self.session_id),
            }),
        }
    }
}

enum Failure {
    /// `gc_admit` raised GC429; `continuing` when the turn continued its session.
    Refused {
        continuing: bool,
    },
    Store(StoreError),
}

/// Runs one admission statement on a connection of `pool`, bounded by the terms' timeout.
/// A connection whose statement timed out is closed, not handed to the next caller.
async fn call(
    pool: &Pool,
    terms: &Terms,
    statement: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Vec<Row>, Failure> {
    let client: Object = pool
        .get()
        .await
        .map_err(|e| Failure::Store(error::from_pool(e)))?;
    match tokio::time::timeout(terms.timeout, client.query_typed(statement, params)).await {
        Ok(Ok(rows)) => Ok(rows),
        Ok(Err(err)) if err.code().map(SqlState::code) == Some(REFUSED) => Err(Failure::Refused {
            continuing: err.as_db_error().map(|db| db.message()) == Some(CONTINUING),
        }),
        Ok(Err(err)) => Err(Failure::Store(error::from_pg(err))),
        Err(_) => {
            super::discard(client);
            Err(Failure::Store(StoreError::Timeout))
        }
    }
}

/// What `gc_admit` answered for one turn, alone or in a group.
enum Reply {
    /// Its row: admitted, whether the session is new, and the session id it answered with
    /// (one of the ids it was given, sent or fresh, or none).
    Answered {
        admitted: bool,
        new_session: bool,
        session: Option<String>,
    },
    /// GC429: refused after a write, all of it rolled back; `continuing` when the turn
    /// continued its session.
    RefusedAfterWrite { continuing: bool },
}

impl Reply {
    fn settle(self, ask: Ask) -> Result<Admission, StoreError> {
        let (admitted, new_session, session) = match self {
            // The turn keeps the session it continued, if it did.
            Reply::RefusedAfterWrite { continuing } => {
                return Ok(Admission::OverQuota {
                    session_id: if continuing { ask.sent } else { None },
                })
            }
            Reply::Answered {
                admitted,
                new_session,
                session,
            } => (admitted, new_session, session),
        };
        let session_id = match session {
            None => None,
            Some(id) if id == ask.fresh.as_str() => Some(ask.fresh),
            Some(_) => ask.sent,
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
