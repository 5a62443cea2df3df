use std::fmt;

/// A web origin exactly as a browser sends it in the `Origin` header: `scheme://host[:port]`,
/// lower-case, no path, no trailing slash, no credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("is not a URL")]
    NotAUrl,
    #[error("must use http or https")]
    BadScheme,
    #[error("must be scheme://host[:port] with no path, query, credentials or trailing slash")]
    NotBare,
    #[error("must not be a wildcard")]
    Wildcard,
}

impl Origin {
    pub fn parse(raw: &str) -> Result<Origin, OriginError> {
        if raw.contains('*') {
            return Err(OriginError::Wildcard);
        }
        let url = url::Url::parse(raw).map_err(|_| OriginError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OriginError::BadScheme);
        }
        let serialized = url.origin().ascii_serialization();
        // Compare case-insensitively so `https://App.example.com` is accepted (and stored
        // lower-case, as browsers send it), but anything beyond the origin is refused.
        if !serialized.eq_ignore_ascii_case(raw) {
            return Err(OriginError::NotBare);
        }
        Ok(Origin(serialized))
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_https_origin_parses_and_is_lower_cased() {
        assert_eq!(
            Origin::parse("https://App.Example.com").map(|o| o.0),
            Ok("https://app.example.com".into())
        );
        assert_eq!(
            Origin::parse("https://app.example.com:8443").map(|o| o.0),
            Ok("https://app.example.com:8443".into())
        );
    }

    #[test]
    fn origins_with_paths_slashes_wildcards_or_credentials_are_refused() {
        for bad in [
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://app.example.com?x=1",
            "https://user:pw@app.example.com",
            "*",
            "https://*.example.com",
            "null",
            "app.example.com",
            "ftp://app.example.com",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
