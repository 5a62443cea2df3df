//! The link allowlist. A destination may be linked only when it parses (as a browser's URL
//! parser reads it) as `http` or `https`, with no credentials, and its host is an
//! allowlisted host or a subdomain of one, compared on the parsed, lower-cased host, so
//! `allowed.com.evil.net`, `allowed.com@evil.net` and `allowed.com\.evil.net` do not pass.
//! The destination is written back in the parser's normalized form.
use url::Url;

pub(crate) struct Allowlist {
    hosts: Vec<String>,
}

impl Allowlist {
    pub(crate) fn new(hosts: &[String]) -> Self {
        let hosts = hosts
            .iter()
            .map(|h| h.trim().trim_matches('.').to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        Allowlist { hosts }
    }

    pub(crate) fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|allowed| {
            host == *allowed
                || (host.len() > allowed.len()
                    && host.ends_with(allowed.as_str())
                    && host.as_bytes().get(host.len() - allowed.len() - 1) == Some(&b'.'))
        })
    }

    /// The normalized URL when the (decoded) destination `raw` may be linked, else `None`.
    pub(crate) fn allowed_http_url(&self, raw: &str) -> Option<String> {
        if self.hosts.is_empty() || raw.is_empty() {
            return None;
        }
        if raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return None;
        }
        let url = Url::parse(raw).ok()?;
        let allowed = matches!(url.scheme(), "http" | "https")
            && url.username().is_empty()
            && url.password().is_none()
            && url
                .host_str()
                .is_some_and(|h| !h.ends_with('.') && self.allows_host(h));
        allowed.then(|| {
            url.as_str()
                .replace('(', "%28")
                .replace(')', "%29")
                .replace('<', "%3C")
                .replace('>', "%3E")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(hosts: &[&str]) -> Allowlist {
        Allowlist::new(&hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn allowlisted_hosts_match_exactly_or_as_subdomains_only() {
        let a = allow(&["Docs.Example.com"]);
        assert!(a.allows_host("docs.example.com"));
        assert!(a.allows_host("API.docs.example.com."));
        assert!(!a.allows_host("docs.example.com.evil.net"));
        assert!(!a.allows_host("evildocs.example.com"));
    }

    #[test]
    fn parser_differentials_never_pass() {
        let a = allow(&["docs.example.com"]);
        for raw in [
            "https://docs.example.com@evil.net/",
            "https://user:pw@docs.example.com/",
            "https://docs.example.com\\.evil.net/p.png",
            "https://evil.net\\docs.example.com",
            "javascript://docs.example.com/%0aalert(1)",
            "https://docs.example.com\u{a0}.evil.net/",
            "//docs.example.com/x",
            "https://docs.example.com./../evil.net/p.png",
            "data:text/html,<script>",
        ] {
            assert_eq!(a.allowed_http_url(raw), None, "{raw}");
        }
    }

    #[test]
    fn allowed_destinations_are_normalized() {
        let a = allow(&["docs.example.com"]);
        assert_eq!(
            a.allowed_http_url("HTTPS://DOCS.example.com/a_(b)?x=1&y=2")
                .as_deref(),
            Some("https://docs.example.com/a_%28b%29?x=1&y=2")
        );
    }
}
