//! The development store: the same sessions, quotas (per session, per user, per address)
//! and TTLs as Postgres (`gc_admit` in migrations/0005), held in process memory behind one
//! mutex. Used when there is no DATABASE_URL.
use super::address::{AddressHasher, Identities};
use super::clock::Clock;
use super::status::{RequestCount, RowAge, SchemaStatus, StatusReport};
use super::{migrate, Admission, AdmissionRequest, ReapReport, RequestRecord, SchemaState};
use crate::config::{QuotaSettings, RetentionSettings};
use crate::domain::SessionId;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Request rows kept at most (oldest first out), so a long development run stays small.
const MAX_REQUEST_ROWS: usize = 100_000;

pub struct MemoryStore {
    state: Mutex<State>,
    session_ttl: TimeDelta,
    request_ttl: TimeDelta,
    per_minute: u32,
    per_day: u32,
    new_sessions_per_hour: u32,
    turns_per_address_per_hour: u32,
    user_per_minute: u32,
    user_per_day: u32,
    hasher: AddressHasher,
    clock: Clock,
}

#[derive(Default)]
struct State {
    sessions: HashMap<SessionId, Session>,
    addresses: HashMap<String, Limiter>,
    users: HashMap<String, UserQuota>,
    requests: VecDeque<StoredRequest>,
    /// Each writer's dropped-row total (one writer per process; kept like Postgres does).
    writer_drops: HashMap<String, u64>,
}

struct Session {
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    minute: Window,
    day: Window,
    /// Keyed hash of the user who created it; `None`: anonymous.
    user_hash: Option<String>,
}

/// An address's hourly window: new sessions and admitted turns in it.
struct Limiter {
    start: DateTime<Utc>,
    new_sessions: u32,
    turns: u32,
    expires_at: DateTime<Utc>,
}

struct UserQuota {
    last_seen_at: DateTime<Utc>,
    minute: Window,
    day: Window,
    expires_at: DateTime<Utc>,
}

struct StoredRequest {
    finished_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    outcome: &'static str,
    category: Option<&'static str>,
}

/// A fixed window that starts at its first event, like the Postgres columns.
#[derive(Clone, Copy)]
struct Window {
    start: DateTime<Utc>,
    count: u32,
}

impl Window {
    fn opened(now: DateTime<Utc>, count: u32) -> Window {
        Window { start: now, count }
    }

    /// The same window with one more event in it.
    fn counted(self) -> Window {
        Window {
            count: self.count.saturating_add(1),
            ..self
        }
    }

    /// This window as of `now`: itself while it lasts, a fresh empty one after.
    fn at(self, now: DateTime<Utc>, length: TimeDelta) -> Window {
        if now - self.start < length {
            self
        } else {
            Window::opened(now, 0)
        }
    }
}

/// A user row lives at least a day past the user's last turn, in whole hours like Postgres
/// (`date_trunc('hour', t) + 25 hours`).
fn user_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    let hour = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
    after(hour, TimeDelta::hours(25))
}

fn delta(duration: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

fn after(now: DateTime<Utc>, ttl: TimeDelta) -> DateTime<Utc> {
    now.checked_add_signed(ttl)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl MemoryStore {
    pub fn new(retention: &RetentionSettings, quota: &QuotaSettings) -> MemoryStore {
        MemoryStore::with_clock(retention, quota, Clock::system())
    }

    pub fn with_clock(
        retention: &RetentionSettings,
        quota: &QuotaSettings,
        clock: Clock,
    ) -> MemoryStore {
        MemoryStore {
            state: Mutex::new(State::default()),
            session_ttl: delta(retention.session_ttl),
            request_ttl: delta(retention.request_ttl),
            per_minute: quota.per_minute,
            per_day: quota.per_day,
            new_sessions_per_hour: quota.new_sessions_per_address_per_hour,
            turns_per_address_per_hour: quota.turns_per_address_per_hour,
            user_per_minute: quota.user_per_minute,
            user_per_day: quota.user_per_day,
            hasher: AddressHasher::new(&quota.address_hash_key),
            clock,
        }
    }

    pub(crate) fn ping(&self) -> SchemaState {
        let expected = migrate::expected_version();
        SchemaState {
            current: expected,
            expected,
        }
    }

    /// The same decision as `gc_admit`: the session (continued only for the identity that
    /// created it), its quotas, the user's quotas, the address's hourly window; nothing is
    /// counted unless every check passes.
    pub(crate) fn admit(&self, request: AdmissionRequest) -> Admission {
        let now = self.clock.now();
        let Identities { address, user } = self.hasher.identities(&request);
        let mut state = self.state.lock();
        let state = &mut *state;

        // 1. The session, and 2. its quotas.
        let continued = request.session_id.filter(|id| {
            state
                .sessions
                .get(id)
                .is_some_and(|s| s.expires_at > now && s.user_hash == user)
        });
        let session_windows = match &continued {
            Some(id) => {
                let session = &state.sessions[id];
                let minute = session.minute.at(now, TimeDelta::minutes(1));
                let day = session.day.at(now, TimeDelta::days(1));
                if minute.count >= self.per_minute || day.count >= self.per_day {
                    return Admission::OverQuota {
                        session_id: continued,
                    };
                }
                Some((minute, day))
            }
            None if self.per_minute < 1 || self.per_day < 1 => {
                return Admission::OverQuota { session_id: None }
            }
            None => None,
        };
        let refused = Admission::OverQuota {
            session_id: continued.clone(),
        };

        // 3. The user's quotas across sessions.
        let user_windows = match &user {
            Some(hash) => {
                let (minute, day) = match state.users.get(hash).filter(|u| u.expires_at > now) {
                    Some(quota) => (
                        quota.minute.at(now, TimeDelta::minutes(1)),
                        quota.day.at(now, TimeDelta::days(1)),
                    ),
                    None => (Window::opened(now, 0), Window::opened(now, 0)),
                };
                if minute.count >= self.user_per_minute || day.count >= self.user_per_day {
                    return refused;
                }
                Some((minute, day))
            }
            None => None,
        };

        // 4. The address's hourly window, checked and counted together.
        if let Some(hash) = address {
            if !self.count_address_turn(state, hash, continued.is_none(), now) {
                return refused;
            }
        }

        // Every check passed: count the turn.
        let new_session = continued.is_none();
        let session_id = match (continued, session_windows) {
            (Some(id), Some((minute, day))) => {
                if let Some(session) = state.sessions.get_mut(&id) {
                    session.minute = minute.counted();
                    session.day = day.counted();
                    session.expires_at = after(now, self.session_ttl);
                }
                id
            }
            _ => {
                let id = SessionId::generate();
                let session = Session {
                    created_at: now,
                    expires_at: after(now, self.session_ttl),
                    minute: Window::opened(now, 1),
                    day: Window::opened(now, 1),
                    user_hash: user.clone(),
                };
                state.sessions.insert(id.clone(), session);
                id
            }
        };
        if let (Some(hash), Some((minute, day))) = (user, user_windows) {
            state.users.insert(
                hash,
                UserQuota {
                    last_seen_at: now,
                    minute: minute.counted(),
                    day: day.counted(),
                    expires_at: user_expiry(now),
                },
            );
        }
        Admission::Admitted {
            session_id,
            new_session,
        }
    }

    /// Count one admitted turn (and a new session when `new_session`) in the address's
    /// hourly window; false, counting nothing, when either is over its limit.
    fn count_address_turn(
        &self,
        state: &mut State,
        hash: String,
        new_session: bool,
        now: DateTime<Utc>,
    ) -> bool {
        let limiter = state.addresses.entry(hash).or_insert(Limiter {
            start: now,
            new_sessions: 0,
            turns: 0,
            expires_at: now,
        });
        if now - limiter.start >= TimeDelta::hours(1) {
            *limiter = Limiter {
                start: now,
                new_sessions: 0,
                turns: 0,
                expires_at: now,
            };
        }
        if limiter.turns >= self.turns_per_address_per_hour
            || (new_session && limiter.new_sessions >= self.new_sessions_per_hour)
        {
            return false;
        }
        limiter.turns += 1;
        limiter.new_sessions += u32::from(new_session);
        limiter.expires_at = after(limiter.start, TimeDelta::hours(1));
        true
    }

    pub(crate) fn insert_requests(&self, rows: &[RequestRecord]) {
        let mut state = self.state.lock();
        for row in rows.iter().filter(|row| row.is_storable()) {
            if state.requests.len() >= MAX_REQUEST_ROWS {
                state.requests.pop_front();
            }
            state.requests.push_back(StoredRequest {
                finished_at: row.finished_at,
                expires_at: after(row.finished_at, self.request_ttl),
                outcome: row.outcome.as_str(),
                category: row.category.map(|category| category.as_str()),
            });
        }
    }

    pub(crate) fn record_dropped(&self, writer_id: &str, dropped: u64) {
        let mut state = self.state.lock();
        let total = state.writer_drops.entry(writer_id.to_owned()).or_default();
        *total = (*total).max(dropped);
    }

    pub(crate) fn reap_once(&self) -> ReapReport {
        let now = self.clock.now();
        let mut state = self.state.lock();
        let before = (
            state.sessions.len(),
            state.requests.len(),
            state.addresses.len(),
            state.users.len(),
        );
        state
            .sessions
            .retain(|_, session| session.expires_at >= now);
        state.requests.retain(|row| row.expires_at >= now);
        state
            .addresses
            .retain(|_, limiter| limiter.expires_at >= now);
        state.users.retain(|_, user| user.expires_at >= now);
        ReapReport {
            sessions: (before.0 - state.sessions.len()) as u64,
            requests: (before.1 - state.requests.len()) as u64,
            address_limits: (before.2 - state.addresses.len()) as u64,
            users: (before.3 - state.users.len()) as u64,
            writer_drops: 0,
            lock_busy: false,
        }
    }

    pub(crate) fn status(&self) -> StatusReport {
        let now = self.clock.now();
        let state = self.state.lock();
        let day_ago = now - TimeDelta::days(1);
        let mut counts: BTreeMap<(&str, Option<&str>), u64> = BTreeMap::new();
        for row in state
            .requests
            .iter()
            .filter(|row| row.finished_at > day_ago)
        {
            *counts.entry((row.outcome, row.category)).or_default() += 1;
        }
        let age = |oldest: Option<DateTime<Utc>>| oldest.map(|at| (now - at).as_seconds_f64());
        StatusReport {
            backend: "memory",
            schema: SchemaStatus::from(self.ping()),
            sessions_active: state
                .sessions
                .values()
                .filter(|s| s.expires_at > now)
                .count() as u64,
            users_last_24h: state
                .users
                .values()
                .filter(|user| user.last_seen_at > day_ago)
                .count() as u64,
            requests_last_24h: counts
                .into_iter()
                .map(|((outcome, category), count)| RequestCount::new(outcome, category, count))
                .collect(),
            sessions_age: RowAge {
                oldest_seconds: age(state.sessions.values().map(|s| s.created_at).min()),
                ttl_seconds: self.session_ttl.num_seconds(),
                expired_waiting: state
                    .sessions
                    .values()
                    .filter(|s| s.expires_at < now)
                    .count() as u64,
            },
            requests_age: RowAge {
                oldest_seconds: age(state.requests.iter().map(|row| row.finished_at).min()),
                ttl_seconds: self.request_ttl.num_seconds(),
                expired_waiting: state
                    .requests
                    .iter()
                    .filter(|row| row.expires_at < now)
                    .count() as u64,
            },
            writer_dropped: Some(state.writer_drops.values().sum()),
        }
    }
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
