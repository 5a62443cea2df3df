//! The id checks of migrations/0008 (a length and a search for a character outside the set)
//! judge every id as the patterns they replaced did, and as the service's own parser does.
use crate::db::TestDatabase;
use governed_chat::domain::RequestId;

const INSERT_REQUEST: &str = "
    INSERT INTO requests (request_id, session_id, started_at, finished_at, outcome,
                          http_status, input_chars, output_chars, expires_at)
    VALUES ($1, $2, now(), now(), 'accepted', 200, 1, 1, now())";

fn hex64() -> String {
    "0123456789abcdef".repeat(4)
}

/// Ids of every kind the checks must tell apart: lengths at the limits, characters just
/// outside the sets, multibyte letters, a trailing line break.
fn id_candidates() -> Vec<String> {
    let hex = hex64();
    vec![
        String::new(),
        "0f2b6c1e".to_owned(),
        "0f2b6c1".to_owned(),
        uuid::Uuid::new_v4().to_string(),
        "a".repeat(64),
        "a".repeat(65),
        "Req_1.2-3".to_owned(),
        "abc def gh".to_owned(),
        "abcdefgh\n".to_owned(),
        "abcdefgh/".to_owned(),
        "ab%cdefgh".to_owned(),
        "abcdéfgh".to_owned(),
        "ａｂｃｄｅｆｇｈ".to_owned(),
        "abcdefgh[".to_owned(),
        "abcdefgh^".to_owned(),
        "abcdefgh\\".to_owned(),
        "abcdefg:".to_owned(),
        "abcdefg@".to_owned(),
        "abcdefg`".to_owned(),
        "abcdefg{".to_owned(),
        "abcdefg~".to_owned(),
        hex.to_uppercase(),
        format!("{hex}0"),
        hex[1..].to_owned(),
        format!("{}g", &hex[1..]),
        format!("{}é", &hex[2..]),
        format!("{}-", &hex[1..]),
        hex,
    ]
}

#[tokio::test]
async fn ids_are_held_to_the_rules_of_the_patterns_the_cheaper_checks_replaced() {
    let db = TestDatabase::create().await;
    let client = db.client().await;
    let (mut accepted, mut refused) = ([0; 3], [0; 3]);
    for candidate in id_candidates() {
        let old_rules = client
            .query_one(
                "SELECT $1 ~ '^[A-Za-z0-9._-]{8,64}$', $1 ~ '^[0-9a-f]{64}$'",
                &[&candidate],
            )
            .await
            .expect("the old patterns");
        let (request_id_rule, hex64_rule): (bool, bool) = (old_rules.get(0), old_rules.get(1));
        assert_eq!(
            request_id_rule,
            RequestId::parse(&candidate).is_some(),
            "the pattern and the service's parser agree on {candidate:?}"
        );
        let checks = [
            (
                "requests.request_id",
                INSERT_REQUEST,
                [candidate.clone(), hex64()],
                request_id_rule,
            ),
            (
                "requests.session_id",
                INSERT_REQUEST,
                [uuid::Uuid::new_v4().to_string(), candidate.clone()],
                hex64_rule,
            ),
            (
                "the gc_hex64 domain",
                "SELECT $1::text::gc_hex64, $2::text",
                [candidate.clone(), String::new()],
                hex64_rule,
            ),
        ];
        for (i, (what, sql, [first, second], rule)) in checks.into_iter().enumerate() {
            match client.execute(sql, &[&first, &second]).await {
                Ok(_) => {
                    assert!(
                        rule,
                        "{what} accepts {candidate:?}, which the pattern refused"
                    );
                    accepted[i] += 1;
                }
                Err(err) => {
                    assert!(!rule, "{what} refuses {candidate:?}: {err}");
                    refused[i] += 1;
                    assert_eq!(
                        err.code(),
                        Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION),
                        "{what}, {candidate:?}"
                    );
                }
            }
        }
    }
    client
        .execute(
            INSERT_REQUEST,
            &[&uuid::Uuid::new_v4().to_string(), &None::<String>],
        )
        .await
        .expect("a turn without a session stores no session id");
    assert!(
        accepted.iter().chain(&refused).all(|n| *n > 0),
        "each check saw ids it accepts and ids it refuses: {accepted:?} {refused:?}"
    );
}
