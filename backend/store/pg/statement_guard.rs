//! A guard on the rule in `mod.rs`: through a transaction-mode pooler a named prepared
//! statement can land on another server connection, so the store never creates one.
//! (`query`, `execute`, `query_one`, `query_opt` and `prepare*` all prepare a named
//! statement first; `query_typed` / `execute_typed` use the unnamed one.)
//!
//! The files are found by walking the whole crate, not listed by hand, so a new file (or a
//! query written outside `backend/store/`) cannot be left out: every file under `store/`,
//! and every other file that names the Postgres driver or pool.

use std::path::{Path, PathBuf};

const FORBIDDEN_CALLS: [&str; 7] = [
    ".prepare",
    ".query(",
    ".query_one(",
    ".query_opt(",
    ".query_raw(",
    ".execute(",
    ".execute_raw(",
];

fn crate_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("backend")
}

/// Every `.rs` file under `dir`, with its path relative to `backend/`.
fn rust_files(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("read the directory {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let source = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
                let name = path
                    .strip_prefix(crate_root())
                    .expect("under backend/")
                    .display()
                    .to_string();
                found.push((name, source));
            }
        }
    }
    found.sort();
    found
}

fn is_this_guard(name: &str) -> bool {
    name.ends_with("statement_guard.rs")
}

#[test]
fn the_postgres_store_never_prepares_a_named_statement() {
    let sources = rust_files(&crate_root());
    let names: Vec<&str> = sources.iter().map(|(name, _)| name.as_str()).collect();
    for expected in ["store/pg/admit.rs", "store/migrate.rs"] {
        assert!(
            names.contains(&expected),
            "the walk missed {expected}: {names:?}"
        );
    }
    let talks_to_postgres = |name: &str, source: &str| {
        name.starts_with("store/")
            || source.contains("tokio_postgres")
            || source.contains("deadpool_postgres")
    };
    for (file, source) in sources
        .iter()
        .filter(|(name, source)| !is_this_guard(name) && talks_to_postgres(name, source))
    {
        for call in FORBIDDEN_CALLS {
            assert!(
                !source.contains(call),
                "{file} calls {call}: use query_typed / execute_typed"
            );
        }
    }
}
