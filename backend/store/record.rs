//! The shape rules of a request row, mirrored from the CHECKs in `migrations/0001_init.sql`,
//! so a row the database would reject is caught before it can block a batch.
use super::RequestRecord;

impl RequestRecord {
    /// True when every field satisfies the `requests` table's constraints.
    pub fn is_storable(&self) -> bool {
        let id_ok = (8..=64).contains(&self.request_id.len())
            && self
                .request_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        let status_ok = |status: u16| (100..=599).contains(&status);
        id_ok && status_ok(self.http_status) && self.provider_status.is_none_or(status_ok)
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::Outcome;
    use crate::store::RequestRecord;
    use chrono::Utc;

    fn record(request_id: &str, http_status: u16, provider_status: Option<u16>) -> RequestRecord {
        RequestRecord {
            request_id: request_id.to_owned(),
            session_id: None,
            started_at: Utc::now(),
            finished_at: Utc::now(),
            outcome: Outcome::Accepted,
            category: None,
            http_status,
            input_chars: 1,
            output_chars: 1,
            reasoning_ms: None,
            expression_ms: None,
            provider_status,
            first_byte_ms: None,
        }
    }

    #[test]
    fn a_well_formed_record_is_storable() {
        assert!(record("0f2b6c1e-request", 200, Some(200)).is_storable());
    }

    #[test]
    fn records_the_schema_would_reject_are_not_storable() {
        assert!(!record("short", 200, None).is_storable());
        assert!(!record("has space in it", 200, None).is_storable());
        assert!(!record("0f2b6c1e-request", 99, None).is_storable());
        assert!(!record("0f2b6c1e-request", 200, Some(600)).is_storable());
    }
}
