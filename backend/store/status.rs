//! What the store holds, for operators: `governed-chat status` prints the Display form,
//! `--json` the serde form. Counts and ages only; never a row's content.
use super::SchemaState;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// `postgres` or `memory`.
    pub backend: &'static str,
    pub schema: SchemaStatus,
    /// Sessions that have not expired.
    pub sessions_active: u64,
    /// Distinct verified users who took a turn in the last 24 hours (a count; users are
    /// stored only as keyed hashes).
    pub users_last_24h: u64,
    /// Requests finished in the last 24 hours, by outcome and category.
    pub requests_last_24h: Vec<RequestCount>,
    pub sessions_age: RowAge,
    pub requests_age: RowAge,
    /// Rows the metadata writer dropped (queue full), when the caller runs a writer.
    pub writer_dropped: Option<u64>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct SchemaStatus {
    pub current: i32,
    pub expected: i32,
    pub is_current: bool,
}

impl From<SchemaState> for SchemaStatus {
    fn from(state: SchemaState) -> SchemaStatus {
        SchemaStatus {
            current: state.current,
            expected: state.expected,
            is_current: state.is_current(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestCount {
    pub outcome: String,
    pub category: Option<String>,
    pub count: u64,
}

impl RequestCount {
    pub fn new(outcome: &str, category: Option<&str>, count: u64) -> RequestCount {
        RequestCount {
            outcome: outcome.to_owned(),
            category: category.map(str::to_owned),
            count,
        }
    }
}

/// How old the oldest row of a table is, against the TTL the reaper enforces.
#[derive(Debug, Clone, Serialize)]
pub struct RowAge {
    /// Age of the oldest row (sessions: since creation; requests: since the turn finished).
    pub oldest_seconds: Option<f64>,
    pub ttl_seconds: i64,
    /// Rows past `expires_at` that the reaper has not deleted yet.
    pub expired_waiting: u64,
}

impl StatusReport {
    /// Fill in the writer's dropped-row count (the store itself does not know it).
    pub fn with_writer_dropped(mut self, dropped: u64) -> StatusReport {
        self.writer_dropped = Some(dropped);
        self
    }

    pub fn requests_total(&self) -> u64 {
        self.requests_last_24h.iter().map(|row| row.count).sum()
    }
}

fn human(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (days, hours, minutes, secs) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, _) => format!("{minutes}m {secs}s"),
        (0, _, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

impl fmt::Display for RowAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.oldest_seconds {
            Some(age) => write!(f, "oldest {} old", human(age))?,
            None => f.write_str("none")?,
        }
        write!(f, " (TTL {})", human(self.ttl_seconds as f64))?;
        match self.expired_waiting {
            0 => Ok(()),
            n => write!(f, ", {n} expired awaiting the reaper"),
        }
    }
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "storage:          {}", self.backend)?;
        let verdict = if self.schema.is_current {
            "current"
        } else {
            "BEHIND: run migrations"
        };
        writeln!(
            f,
            "schema version:   {} (this binary expects {}): {verdict}",
            self.schema.current, self.schema.expected
        )?;
        writeln!(f, "sessions active:  {}", self.sessions_active)?;
        writeln!(f, "users in the last 24 h: {}", self.users_last_24h)?;
        writeln!(f, "sessions:         {}", self.sessions_age)?;
        writeln!(f, "requests:         {}", self.requests_age)?;
        writeln!(f, "requests in the last 24 h: {}", self.requests_total())?;
        for row in &self.requests_last_24h {
            let category = row.category.as_deref().unwrap_or("-");
            writeln!(f, "  {:<9} {:<36} {}", row.outcome, category, row.count)?;
        }
        match self.writer_dropped {
            Some(dropped) => writeln!(f, "writer dropped:   {dropped} rows"),
            None => writeln!(f, "writer dropped:   unknown (no writer in this process)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_sensible_units() {
        assert_eq!(human(42.0), "42s");
        assert_eq!(human(200.0), "3m 20s");
        assert_eq!(human(7260.0), "2h 1m");
        assert_eq!(human(604_800.0), "7d 0h");
    }

    #[test]
    fn a_status_report_displays_one_readable_line_per_fact() {
        let report = StatusReport {
            backend: "memory",
            schema: SchemaStatus {
                current: 1,
                expected: 1,
                is_current: true,
            },
            sessions_active: 3,
            users_last_24h: 2,
            requests_last_24h: vec![RequestCount::new("refused", Some("quota"), 2)],
            sessions_age: RowAge {
                oldest_seconds: Some(65.0),
                ttl_seconds: 86_400,
                expired_waiting: 0,
            },
            requests_age: RowAge {
                oldest_seconds: None,
                ttl_seconds: 604_800,
                expired_waiting: 1,
            },
            writer_dropped: None,
        }
        .with_writer_dropped(4);
        let text = report.to_string();
        assert!(text.contains("storage:          memory"), "{text}");
        assert!(text.contains("(this binary expects 1): current"), "{text}");
        assert!(text.contains("oldest 1m 5s old (TTL 1d 0h)"), "{text}");
        assert!(
            text.contains("none (TTL 7d 0h), 1 expired awaiting the reaper"),
            "{text}"
        );
        assert!(text.contains("refused   quota"), "{text}");
        assert!(text.contains("writer dropped:   4 rows"), "{text}");
        assert!(text.contains("users in the last 24 h: 2"), "{text}");
        let json = serde_json::to_value(&report).expect("status serializes");
        assert_eq!(json["schema"]["current"], 1);
        assert_eq!(json["requests_last_24h"][0]["category"], "quota");
        assert_eq!(json["users_last_24h"], 2);
    }
}
