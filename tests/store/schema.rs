//! The schema itself: nothing can hold text beyond ids and categories, every row expires,
//! and Supabase's client roles read nothing.
use crate::db::TestDatabase;
use crate::support::{admit_as, count, record, scalar};
use governed_chat::domain::{Category, Outcome};
use tokio_postgres::SimpleQueryMessage;

async fn rows(client: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    let messages = client
        .simple_query(sql)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    messages
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL").to_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn every_text_column_is_an_id_or_a_category_held_to_a_check() {
    let db = TestDatabase::create().await;
    let client = db.client().await;
    let columns = rows(
        &client,
        // A column's checks: its table's CHECK constraints on it, and its domain's.
        "SELECT c.table_name, c.column_name, c.data_type,
                coalesce((SELECT string_agg(pg_get_constraintdef(con.oid), ' | ')
                          FROM pg_constraint con
                          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey)
                          WHERE con.contype = 'c'
                            AND con.conrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
                            AND a.attname = c.column_name), '')
                || coalesce((SELECT ' | ' || string_agg(pg_get_constraintdef(con.oid), ' | ')
                             FROM pg_constraint con
                             JOIN pg_type ty ON ty.oid = con.contypid
                             WHERE con.contype = 'c' AND ty.typname = c.domain_name), '')
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
         ORDER BY 1, 2",
    )
    .await;
    assert!(columns.len() > 20, "the schema is there: {columns:?}");
    let allowed = [
        "text",
        "integer",
        "bigint",
        "smallint",
        "timestamp with time zone",
    ];
    let mut text_columns = 0;
    for column in &columns {
        let [table, name, data_type, checks] = column.as_slice() else {
            panic!("{column:?}")
        };
        assert!(
            allowed.contains(&data_type.as_str()),
            "{table}.{name} has type {data_type}"
        );
        if data_type != "text" {
            continue;
        }
        text_columns += 1;
        let is_id = checks.contains("~ '^[")
            && ["{32}$'", "{64}$'", "{8,64}$'"]
                .iter()
                .any(|length| checks.contains(length));
        // The domain gc_hex64, and the session id a request row names: 64 characters, all
        // lowercase hex digits (migrations/0006, 0008).
        let is_hex64 = ["VALUE", "session_id"].iter().any(|value| {
            checks.contains(&format!("(octet_length({value}) = 64)"))
                && checks.contains(&format!("({value} !~ '[^0-9a-f]'::text)"))
        });
        // A request id: 8 to 64 letters, digits, `.`, `_` or `-` (migrations/0008).
        let is_request_id = checks.contains("(octet_length(request_id) >= 8)")
            && checks.contains("(octet_length(request_id) <= 64)")
            && checks.contains("(request_id !~ '[^A-Za-z0-9._-]'::text)");
        let is_category = checks.contains("= ANY (ARRAY[");
        assert!(
            is_id || is_hex64 || is_request_id || is_category,
            "{table}.{name} is free text: CHECK {checks:?}"
        );
    }
    assert_eq!(
        text_columns, 10,
        "ids, hashes (address, user, session owner), checksum, outcome and category: {columns:?}"
    );
    let category = &columns
        .iter()
        .find(|c| c[0] == "requests" && c[1] == "category")
        .expect("category")[3];
    for known in Category::ALL {
        assert!(
            category.contains(&format!("'{}'::text", known.as_str())),
            "{known} missing from {category}"
        );
    }
    assert_eq!(
        category.matches("::text").count(),
        Category::ALL.len(),
        "no extra categories"
    );
    let outcome = &columns
        .iter()
        .find(|c| c[0] == "requests" && c[1] == "outcome")
        .expect("outcome")[3];
    for known in Outcome::ALL {
        assert!(
            outcome.contains(&format!("'{}'::text", known.as_str())),
            "{known:?} missing"
        );
    }
}

#[tokio::test]
async fn every_data_table_has_an_index_that_finds_its_expired_rows() {
    let db = TestDatabase::create().await;
    let client = db.client().await;
    // Sessions are found by `reap_after` (at least `expires_at`, moved in steps), so that a
    // turn's sliding `expires_at` changes no indexed column (migrations/0006).
    for (table, column) in [
        ("sessions", "reap_after"),
        ("requests", "expires_at"),
        ("address_limits", "expires_at"),
        ("writer_drops", "expires_at"),
        ("users", "expires_at"),
    ] {
        let sql = format!(
            "SELECT count(*) FROM pg_indexes WHERE tablename = '{table}' AND indexdef LIKE '%({column})'"
        );
        assert_eq!(
            scalar(&client, &sql).await,
            "1",
            "{table} has no index on {column}"
        );
    }
}

#[tokio::test]
async fn the_schema_refuses_a_row_that_would_carry_text() {
    let db = TestDatabase::create().await;
    let client = db.client().await;
    let err = client
        .batch_execute(
            "INSERT INTO requests (request_id, started_at, finished_at, outcome, http_status,
                                   input_chars, output_chars, expires_at)
             VALUES ('0f2b6c1e-request', now(), now(), 'the user said hello', 200, 1, 1, now())",
        )
        .await
        .expect_err("free text in outcome is refused");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION)
    );
}

#[tokio::test]
async fn the_admission_tables_refuse_an_id_that_is_not_64_hex_digits_and_a_negative_count() {
    let db = TestDatabase::create().await;
    let client = db.client().await;
    let hex = "0123456789abcdef".repeat(4);
    let refused = [
        format!("INSERT INTO address_limits (address_hash, expires_at) VALUES ('{}', now())", hex.to_uppercase()),
        format!("INSERT INTO address_limits (address_hash, expires_at) VALUES ('{hex}0', now())"),
        format!("INSERT INTO address_limits (address_hash, expires_at) VALUES ('{}', now())", &hex[1..]),
        format!("INSERT INTO address_limits (address_hash, expires_at) VALUES ('{}g', now())", &hex[1..]),
        "INSERT INTO users (user_hash, expires_at) VALUES ('hello, this is free text', now())".to_owned(),
        format!(
            "INSERT INTO sessions (id, expires_at, reap_after) VALUES ('{}é', now(), now())",
            &hex[2..]
        ),
        format!("INSERT INTO sessions (id, expires_at, reap_after, user_hash) VALUES ('{hex}', now(), now(), 'x')"),
        format!("INSERT INTO users (user_hash, expires_at, minute_count) VALUES ('{hex}', now(), -1)"),
        format!("INSERT INTO sessions (id, expires_at, reap_after, turn_count) VALUES ('{hex}', now(), now(), -1)"),
    ];
    for sql in &refused {
        let err = client.batch_execute(sql).await.expect_err(sql);
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION),
            "{sql}"
        );
    }
    client
        .batch_execute(&format!(
            "INSERT INTO sessions (id, expires_at, reap_after, user_hash) VALUES ('{hex}', now(), now(), '{hex}')"
        ))
        .await
        .expect("64 lowercase hex digits are an id");
}

const CREATE_SUPABASE_ROLES: &str = "
    DO $$
    DECLARE role_name text;
    BEGIN
        FOREACH role_name IN ARRAY ARRAY['anon', 'authenticated'] LOOP
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- exists already, or another test created it a moment ago
            END;
        END LOOP;
    END $$";

#[tokio::test]
async fn row_level_security_shows_anon_and_authenticated_nothing() {
    let db = TestDatabase::create_empty().await;
    let client = db.client().await;
    client
        .batch_execute(CREATE_SUPABASE_ROLES)
        .await
        .expect("creating the Supabase roles");
    let store = db.settings().store();
    store
        .migrate()
        .await
        .expect("migrating after the roles exist");
    admit_as(
        &store,
        Some("8d0f5c2e-3b1a-4c7d-9e6f-0a1b2c3d4e5f"),
        None,
        Some("192.0.2.10"),
    )
    .await;
    store
        .insert_requests(&[record(Outcome::Accepted, None)])
        .await
        .expect("insert");
    store
        .record_dropped("0123456789abcdef0123456789abcdef", 3)
        .await
        .expect("record dropped rows");
    let tables = [
        "sessions",
        "requests",
        "address_limits",
        "writer_drops",
        "users",
        "schema_migrations",
    ];
    for table in tables {
        assert!(
            count(&client, table).await > 0,
            "{table} holds rows for the owner"
        );
    }
    for role in ["anon", "authenticated"] {
        for table in tables {
            let sql =
                format!("BEGIN; SET LOCAL ROLE {role}; SELECT count(*) FROM {table}; ROLLBACK");
            let err = client
                .simple_query(&sql)
                .await
                .expect_err("migrations revoke every grant");
            assert_eq!(
                err.code(),
                Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
                "{role} {table}"
            );
            client.batch_execute("ROLLBACK").await.ok();
        }
    }
    // Supabase grants new tables to these roles by default; RLS alone must still hide everything.
    client
        .batch_execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO anon, authenticated")
        .await
        .expect("granting like Supabase does");
    for role in ["anon", "authenticated"] {
        for table in tables {
            let sql = format!("BEGIN; SET LOCAL ROLE {role}; SELECT count(*) FROM {table}");
            assert_eq!(scalar(&client, &sql).await, "0", "{role} reads {table}");
            let deleted = client
                .simple_query(&format!("DELETE FROM {table}"))
                .await
                .expect("a delete that sees nothing");
            assert!(
                deleted
                    .iter()
                    .any(|m| matches!(m, SimpleQueryMessage::CommandComplete(0))),
                "{role} deleted from {table}"
            );
            client.batch_execute("ROLLBACK").await.expect("rollback");
        }
    }
}
