//! A guard on the rule in `mod.rs`: through a transaction-mode pooler a named prepared
//! statement can land on another server connection, so the store never creates one.
//! (`query`, `execute`, `query_one`, `query_opt` and `prepare*` all prepare a named
//! statement first; `query_typed` / `execute_typed` use the unnamed one.)

const SOURCES: [(&str, &str); 7] = [
    ("pg/mod.rs", include_str!("mod.rs")),
    ("pg/admit.rs", include_str!("admit.rs")),
    ("pg/requests.rs", include_str!("requests.rs")),
    ("pg/reap.rs", include_str!("reap.rs")),
    ("pg/status.rs", include_str!("status.rs")),
    ("pg/connect.rs", include_str!("connect.rs")),
    ("migrate.rs", include_str!("../migrate.rs")),
];

#[test]
fn the_postgres_store_never_prepares_a_named_statement() {
    let forbidden = [
        ".prepare",
        ".query(",
        ".query_one(",
        ".query_opt(",
        ".query_raw(",
        ".execute(",
        ".execute_raw(",
    ];
    for (file, source) in SOURCES {
        for call in forbidden {
            assert!(
                !source.contains(call),
                "{file} calls {call}: use query_typed / execute_typed"
            );
        }
    }
}
