//! The development store: the same sessions, quotas, new-session limiter and TTLs as
//! Postgres, held in process memory behind one mutex. Used when there is no DATABASE_URL.
use super::address::AddressHasher;
use super::clock::Clock;
use super::status::{RequestCount, RowAge, SchemaStatus, StatusReport};
use super::{migrate, Admission, AdmissionRequest, ReapReport, RequestRecord, SchemaState};
use crate::config::{QuotaSettings, RetentionSettings};
use crate::domain::SessionId;
use chrono::{DateTime, TimeDelta, Utc};
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
    hasher: AddressHasher,
    clock: Clock,
}

#[derive(Default)]
struct State {
    sessions: HashMap<SessionId, Session>,
    addresses: HashMap<String, Limiter>,
    requests: VecDeque<StoredRequest>,
    /// Each writer's dropped-row total (one writer per process; kept like Postgres does).
    writer_drops: HashMap<String, u64>,
}

struct Session {
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    minute: Window,
    day: Window,
}

struct Limiter {
    window: Window,
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

    /// This window as of `now`: itself while it lasts, a fresh empty one after.
    fn at(self, now: DateTime<Utc>, length: TimeDelta) -> Window {
        if now - self.start < length {
            self
        } else {
            Window::opened(now, 0)
        }
    }
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

    pub(crate) fn admit(&self, request: AdmissionRequest) -> Admission {
        let now = self.clock.now();
        let mut state = self.state.lock();
        if let Some(id) = request.session_id {
            if let Some(session) = state.sessions.get_mut(&id).filter(|s| s.expires_at > now) {
                let minute = session.minute.at(now, TimeDelta::minutes(1));
                let day = session.day.at(now, TimeDelta::days(1));
                if minute.count >= self.per_minute || day.count >= self.per_day {
                    return Admission::OverQuota {
                        session_id: Some(id),
                    };
                }
                session.minute = Window {
                    count: minute.count + 1,
                    ..minute
                };
                session.day = Window {
                    count: day.count + 1,
                    ..day
                };
                session.expires_at = after(now, self.session_ttl);
                return Admission::Admitted {
                    session_id: id,
                    new_session: false,
                };
            }
        }
        let hash = request
            .client_address
            .as_deref()
            .map(|address| self.hasher.hash(address));
        if let Some(hash) = hash {
            if !self.count_new_session(&mut state, hash, now) {
                return Admission::OverQuota { session_id: None };
            }
        }
        let session_id = SessionId::generate();
        let admitted = self.per_minute > 0 && self.per_day > 0;
        let turns = u32::from(admitted);
        let session = Session {
            created_at: now,
            expires_at: after(now, self.session_ttl),
            minute: Window::opened(now, turns),
            day: Window::opened(now, turns),
        };
        state.sessions.insert(session_id.clone(), session);
        if admitted {
            Admission::Admitted {
                session_id,
                new_session: true,
            }
        } else {
            Admission::OverQuota {
                session_id: Some(session_id),
            }
        }
    }

    /// Count one new session against the address's hourly window; false when over it.
    fn count_new_session(&self, state: &mut State, hash: String, now: DateTime<Utc>) -> bool {
        let limiter = state.addresses.entry(hash).or_insert(Limiter {
            window: Window::opened(now, 0),
            expires_at: now,
        });
        let window = if limiter.expires_at > now {
            limiter.window.at(now, TimeDelta::hours(1))
        } else {
            Window::opened(now, 0)
        };
        if window.count >= self.new_sessions_per_hour {
            return false;
        }
        limiter.window = Window {
            count: window.count + 1,
            ..window
        };
        limiter.expires_at = after(now, self.session_ttl);
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
        );
        state
            .sessions
            .retain(|_, session| session.expires_at >= now);
        state.requests.retain(|row| row.expires_at >= now);
        state
            .addresses
            .retain(|_, limiter| limiter.expires_at >= now);
        ReapReport {
            sessions: (before.0 - state.sessions.len()) as u64,
            requests: (before.1 - state.requests.len()) as u64,
            address_limits: (before.2 - state.addresses.len()) as u64,
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
