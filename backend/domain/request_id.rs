use std::fmt;

/// The id of one HTTP request. An incoming `X-Request-Id` is reused only when it is short
/// and made of safe characters, so it can go on log lines and headers without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    pub const MAX_LEN: usize = 64;

    /// A random (version 4) UUID, its bits from `rand`'s thread-local CSPRNG (no system
    /// call per id, unlike `Uuid::new_v4`).
    pub fn generate() -> Self {
        let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        RequestId(uuid.to_string())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let ok_len = (8..=Self::MAX_LEN).contains(&raw.len());
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        (ok_len && ok_chars).then(|| RequestId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_request_ids_are_distinct_random_uuids() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        for id in [a, b] {
            let uuid = uuid::Uuid::parse_str(id.as_str()).expect("a generated id is a UUID");
            assert_eq!(uuid.get_version(), Some(uuid::Version::Random));
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(RequestId::parse(id.as_str()), Some(id));
        }
    }

    #[test]
    fn a_uuid_is_accepted_as_request_id() {
        let id = uuid::Uuid::new_v4().to_string();
        assert_eq!(RequestId::parse(&id).map(|r| r.0), Some(id));
    }

    #[test]
    fn request_ids_with_unsafe_characters_or_lengths_are_rejected() {
        for bad in [
            "",
            "short",
            "has space 123456",
            "new\nline12345",
            &"a".repeat(65),
            "<script>alert1",
        ] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?} was accepted");
        }
    }
}
