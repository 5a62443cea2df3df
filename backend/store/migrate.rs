//! Schema migrations, embedded in the binary so it knows the version it expects. Each one is
//! applied in its own transaction under a transaction-scoped advisory lock (safe through a
//! transaction-mode pooler, and concurrent runners serialize), and recorded with the sha256
//! of its text. Re-running is a no-op; an applied migration whose text changed is an error.
use anyhow::{bail, Context};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::Duration;
use tokio_postgres::{Client, Transaction};

pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. Add new files here; never edit an applied one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("../../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_writer_drops",
        sql: include_str!("../../migrations/0002_writer_drops.sql"),
    },
    Migration {
        version: 3,
        name: "0003_categories_and_first_byte",
        sql: include_str!("../../migrations/0003_categories_and_first_byte.sql"),
    },
    Migration {
        version: 4,
        name: "0004_users_and_address_turns",
        sql: include_str!("../../migrations/0004_users_and_address_turns.sql"),
    },
    Migration {
        version: 5,
        name: "0005_admission_function",
        sql: include_str!("../../migrations/0005_admission_function.sql"),
    },
    Migration {
        version: 6,
        name: "0006_admission_in_fewer_writes",
        sql: include_str!("../../migrations/0006_admission_in_fewer_writes.sql"),
    },
    Migration {
        version: 7,
        name: "0007_admission_in_groups",
        sql: include_str!("../../migrations/0007_admission_in_groups.sql"),
    },
    Migration {
        version: 8,
        name: "0008_requests_without_regex",
        sql: include_str!("../../migrations/0008_requests_without_regex.sql"),
    },
];

/// `pg_advisory_xact_lock` key held while migrating ("gc-migr").
const MIGRATION_LOCK_KEY: i64 = 0x0067_632d_6d69_6772;

const CREATE_TABLE: &str = "
    CREATE TABLE schema_migrations (
        version    integer     PRIMARY KEY CHECK (version > 0),
        checksum   text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
        applied_at timestamptz NOT NULL DEFAULT now()
    );
    ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
    REVOKE ALL ON TABLE schema_migrations FROM PUBLIC;";

/// The latest version this binary embeds.
pub fn expected_version() -> i32 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

/// Lower-case hex sha256 of a migration's text.
pub fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MigrateReport {
    /// Versions this run applied, in order (empty when the schema was already current).
    pub applied: Vec<i32>,
    /// The schema version after the run.
    pub current: i32,
    pub expected: i32,
}

impl MigrateReport {
    pub(crate) fn memory() -> MigrateReport {
        let expected = expected_version();
        MigrateReport {
            applied: Vec::new(),
            current: expected,
            expected,
        }
    }
}

impl fmt::Display for MigrateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.applied.as_slice() {
            [] => write!(
                f,
                "schema already at version {}; nothing to apply",
                self.current
            ),
            applied => {
                let list: Vec<String> = applied.iter().map(i32::to_string).collect();
                write!(
                    f,
                    "applied migration(s) {}; schema at version {}",
                    list.join(", "),
                    self.current
                )
            }
        }
    }
}

/// Apply every pending migration, one transaction each.
pub(crate) async fn run(
    client: &mut Client,
    statement_timeout: Duration,
) -> anyhow::Result<MigrateReport> {
    let mut applied = Vec::new();
    loop {
        let tx = client
            .transaction()
            .await
            .context("starting a migration transaction")?;
        let setup = format!(
            "SET LOCAL statement_timeout = {}; SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})",
            statement_timeout.as_millis()
        );
        tx.batch_execute(&setup)
            .await
            .context("taking the migration lock")?;
        let recorded = recorded_versions(&tx).await?;
        verify_checksums(&recorded)?;
        let current = recorded
            .iter()
            .map(|(version, _)| *version)
            .max()
            .unwrap_or(0);
        let pending = MIGRATIONS.iter().find(|migration| {
            !recorded
                .iter()
                .any(|(version, _)| *version == migration.version)
        });
        let Some(migration) = pending else {
            tx.commit().await.context("finishing the migration check")?;
            return Ok(MigrateReport {
                applied,
                current,
                expected: expected_version(),
            });
        };
        apply(&tx, migration).await?;
        tx.commit()
            .await
            .with_context(|| format!("committing migration {}", migration.name))?;
        applied.push(migration.version);
    }
}

/// `(version, checksum)` of applied migrations; creates the table on first use.
async fn recorded_versions(tx: &Transaction<'_>) -> anyhow::Result<Vec<(i32, String)>> {
    let exists = tx
        .query_typed_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await
        .context("looking for the schema_migrations table")?;
    if !exists
        .try_get::<_, bool>(0)
        .context("reading the schema_migrations lookup")?
    {
        tx.batch_execute(CREATE_TABLE)
            .await
            .context("creating the schema_migrations table")?;
        return Ok(Vec::new());
    }
    let rows = tx
        .query_typed(
            "SELECT version, checksum FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .context("reading schema_migrations")?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()
        .context("decoding schema_migrations")
}

fn verify_checksums(recorded: &[(i32, String)]) -> anyhow::Result<()> {
    for (version, recorded_sum) in recorded {
        let Some(migration) = MIGRATIONS.iter().find(|m| m.version == *version) else {
            continue; // applied by a newer binary: not ours to judge
        };
        let embedded = checksum(migration.sql);
        if embedded != *recorded_sum {
            bail!(
                "migration {} was changed after it was applied (recorded checksum {recorded_sum}, \
                 this binary has {embedded}); restore the applied file and add a new migration instead",
                migration.name
            );
        }
    }
    Ok(())
}

async fn apply(tx: &Transaction<'_>, migration: &Migration) -> anyhow::Result<()> {
    tx.batch_execute(migration.sql)
        .await
        .with_context(|| format!("applying migration {}", migration.name))?;
    let sum = checksum(migration.sql);
    tx.execute_typed(
        "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
        &[
            (&migration.version, tokio_postgres::types::Type::INT4),
            (&sum, tokio_postgres::types::Type::TEXT),
        ],
    )
    .await
    .with_context(|| format!("recording migration {}", migration.name))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_migrations_are_numbered_in_order_from_one() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i32 + 1);
            assert!(migration
                .name
                .starts_with(&format!("{:04}_", migration.version)));
        }
        assert_eq!(expected_version(), MIGRATIONS.len() as i32);
    }

    /// A new `Category` or `Outcome` needs a migration that widens the CHECK.
    #[test]
    fn the_schema_allows_every_outcome_and_category_the_domain_defines() {
        use crate::domain::{Category, Outcome};
        let schema: String = MIGRATIONS.iter().map(|migration| migration.sql).collect();
        for text in Outcome::ALL
            .iter()
            .map(|o| o.as_str())
            .chain(Category::ALL.iter().map(|c| c.as_str()))
        {
            assert!(
                schema.contains(&format!("'{text}'")),
                "no migration allows {text:?}"
            );
        }
    }

    #[test]
    fn a_checksum_is_the_hex_sha256_of_the_text() {
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
