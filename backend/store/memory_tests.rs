//! The memory store behaves like Postgres: quotas, the new-session limiter and TTLs.
use super::*;
use crate::config::{QuotaSettings, RetentionSettings};
use crate::domain::{Category, Outcome};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

struct Fixture {
    store: MemoryStore,
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl Fixture {
    fn new(per_minute: u32, per_day: u32, new_sessions_per_hour: u32) -> Fixture {
        let now = Arc::new(Mutex::new(Utc::now()));
        let clock_now = Arc::clone(&now);
        let retention = RetentionSettings {
            session_ttl: Duration::from_secs(600),
            request_ttl: Duration::from_secs(3600),
            reaper_interval: Duration::from_secs(1),
            reaper_batch_size: 10,
        };
        let quota = QuotaSettings {
            per_minute,
            per_day,
            new_sessions_per_address_per_hour: new_sessions_per_hour,
            turns_per_address_per_hour: 1_000,
            user_per_minute: 1_000,
            user_per_day: 10_000,
            trusted_proxy_header: None,
            address_hash_key: SecretString::from("test-key".to_owned()),
        };
        let clock = Clock::from_fn(move || *clock_now.lock());
        Fixture {
            store: MemoryStore::with_clock(&retention, &quota, clock),
            now,
        }
    }

    fn advance(&self, by: TimeDelta) {
        *self.now.lock() += by;
    }

    fn admit(&self, session_id: Option<&SessionId>, address: Option<&str>) -> Admission {
        self.store.admit(AdmissionRequest {
            session_id: session_id.cloned(),
            client_address: address.map(str::to_owned),
            user: None,
        })
    }

    fn new_session(&self) -> SessionId {
        match self.admit(None, None) {
            Admission::Admitted {
                session_id,
                new_session: true,
            } => session_id,
            other => panic!("expected a new session, got {other:?}"),
        }
    }
}

fn admitted(admission: &Admission) -> bool {
    matches!(admission, Admission::Admitted { .. })
}

#[test]
fn a_turn_without_a_session_gets_a_new_one_and_the_next_turn_reuses_it() {
    let fixture = Fixture::new(10, 100, 10);
    let id = fixture.new_session();
    assert_eq!(
        fixture.admit(Some(&id), None),
        Admission::Admitted {
            session_id: id.clone(),
            new_session: false
        }
    );
}

#[test]
fn an_unknown_session_id_gets_a_fresh_session() {
    let fixture = Fixture::new(10, 100, 10);
    let unknown = SessionId::generate();
    match fixture.admit(Some(&unknown), None) {
        Admission::Admitted {
            session_id,
            new_session: true,
        } => assert_ne!(session_id, unknown),
        other => panic!("expected a fresh session, got {other:?}"),
    }
}

#[test]
fn an_expired_session_id_gets_a_fresh_session() {
    let fixture = Fixture::new(10, 100, 10);
    let id = fixture.new_session();
    fixture.advance(TimeDelta::seconds(601));
    match fixture.admit(Some(&id), None) {
        Admission::Admitted {
            session_id,
            new_session: true,
        } => assert_ne!(session_id, id),
        other => panic!("expected a fresh session, got {other:?}"),
    }
}

#[test]
fn the_per_minute_quota_admits_exactly_n_turns_then_resets_after_a_minute() {
    let fixture = Fixture::new(3, 100, 10);
    let id = fixture.new_session();
    let results: Vec<bool> = (0..5)
        .map(|_| admitted(&fixture.admit(Some(&id), None)))
        .collect();
    assert_eq!(results, [true, true, false, false, false]);
    assert_eq!(
        fixture.admit(Some(&id), None),
        Admission::OverQuota {
            session_id: Some(id.clone())
        }
    );
    fixture.advance(TimeDelta::seconds(61));
    assert!(admitted(&fixture.admit(Some(&id), None)));
}

#[test]
fn the_per_day_quota_holds_across_minutes() {
    let fixture = Fixture::new(100, 4, 10);
    let id = fixture.new_session();
    for _ in 0..3 {
        assert!(admitted(&fixture.admit(Some(&id), None)));
        fixture.advance(TimeDelta::seconds(120));
    }
    assert_eq!(
        fixture.admit(Some(&id), None),
        Admission::OverQuota {
            session_id: Some(id)
        }
    );
}

#[test]
fn the_new_session_limit_per_address_holds_even_when_session_ids_are_dropped() {
    let fixture = Fixture::new(10, 100, 2);
    assert!(admitted(&fixture.admit(None, Some("198.51.100.4"))));
    assert!(admitted(
        &fixture.admit(Some(&SessionId::generate()), Some("198.51.100.4"))
    ));
    assert_eq!(
        fixture.admit(None, Some("198.51.100.4")),
        Admission::OverQuota { session_id: None }
    );
    assert!(
        admitted(&fixture.admit(None, Some("198.51.100.5"))),
        "another address is not limited"
    );
    fixture.advance(TimeDelta::minutes(61));
    assert!(
        admitted(&fixture.admit(None, Some("198.51.100.4"))),
        "the window is an hour"
    );
}

#[test]
fn the_memory_store_never_holds_a_raw_address() {
    let fixture = Fixture::new(10, 100, 2);
    fixture.admit(None, Some("198.51.100.4"));
    let state = fixture.store.state.lock();
    assert!(state
        .addresses
        .keys()
        .all(|key| key.len() == 64 && !key.contains("198")));
}

fn record(
    finished_at: DateTime<Utc>,
    outcome: Outcome,
    category: Option<Category>,
) -> RequestRecord {
    RequestRecord {
        request_id: uuid::Uuid::new_v4().to_string(),
        session_id: None,
        started_at: finished_at,
        finished_at,
        outcome,
        category,
        http_status: 200,
        input_chars: 5,
        output_chars: 7,
        reasoning_ms: Some(1),
        expression_ms: None,
        provider_status: Some(200),
        first_byte_ms: None,
    }
}

#[test]
fn expired_sessions_requests_and_limiter_rows_are_reaped() {
    let fixture = Fixture::new(10, 100, 5);
    fixture.admit(None, Some("203.0.113.1"));
    let now = *fixture.now.lock();
    fixture
        .store
        .insert_requests(&[record(now, Outcome::Accepted, None)]);
    assert_eq!(
        fixture.store.reap_once().total(),
        0,
        "nothing has expired yet"
    );
    fixture.advance(TimeDelta::seconds(601));
    let first = fixture.store.reap_once();
    assert_eq!(
        (first.sessions, first.requests, first.address_limits),
        (1, 0, 0),
        "the address's window lasts an hour, longer than the session"
    );
    fixture.advance(TimeDelta::seconds(3600));
    let second = fixture.store.reap_once();
    assert_eq!((second.requests, second.address_limits), (1, 1));
}

#[test]
fn status_counts_active_sessions_and_recent_requests_by_outcome_and_category() {
    let fixture = Fixture::new(10, 100, 5);
    fixture.new_session();
    let now = *fixture.now.lock();
    fixture.store.insert_requests(&[
        record(now, Outcome::Accepted, None),
        record(now, Outcome::Refused, Some(Category::Quota)),
        record(now, Outcome::Refused, Some(Category::Quota)),
        record(now - TimeDelta::days(2), Outcome::Accepted, None),
    ]);
    let status = fixture.store.status();
    assert_eq!(status.backend, "memory");
    assert_eq!(status.sessions_active, 1);
    assert_eq!(
        status.requests_last_24h,
        vec![
            RequestCount::new("accepted", None, 1),
            RequestCount::new("refused", Some("quota"), 2)
        ]
    );
    assert_eq!(status.requests_age.ttl_seconds, 3600);
    assert_eq!(
        status.requests_age.expired_waiting, 1,
        "the two-day-old row is past its TTL"
    );
}

#[test]
fn a_users_row_outlives_their_last_turn_by_a_day_then_is_reaped_and_status_counts_it_meanwhile() {
    let fixture = Fixture::new(10, 100, 5);
    fixture.store.admit(AdmissionRequest {
        session_id: None,
        client_address: None,
        user: Some("5b0c8a4e-1f3d-4e2a-9c6b-7d8e9f0a1b2c".to_owned()),
    });
    assert_eq!(fixture.store.status().users_last_24h, 1);
    assert!(fixture
        .store
        .state
        .lock()
        .users
        .keys()
        .all(|key| key.len() == 64 && !key.contains("5b0c8a4e")));
    fixture.advance(TimeDelta::hours(23));
    assert_eq!(fixture.store.reap_once().users, 0);
    assert_eq!(fixture.store.status().users_last_24h, 1);
    fixture.advance(TimeDelta::hours(3));
    assert_eq!(fixture.store.status().users_last_24h, 0);
    assert_eq!(fixture.store.reap_once().users, 1);
}
