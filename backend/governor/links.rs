//! Links and images in replies. A URL survives only when it is `http`/`https` (or
//! `mailto`) and its host is in the allowlist — exactly or as a subdomain, compared
//! case-insensitively on the parsed host, so `allowed.com.evil.net`, `allowed.com@evil.net`
//! and `evil.net\allowed.com` do not pass. Everything else keeps only its text:
//!
//! * `![alt](url)` images never load: they become their alt text (allowlisted or not);
//! * `[text](url)` to a non-allowlisted host becomes `text`;
//! * `[label]: url` reference definitions to non-allowlisted hosts are broken (`]\:`);
//! * any other `](` is escaped to `]\(` so no later renderer can form a link from pieces.
//!
//! This runs on HTML-sanitized text, so `&` appears as `&amp;` and is decoded/re-escaped.
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

    /// The normalized URL when `raw` may be linked, else `None`.
    pub(crate) fn allowed_url(&self, raw: &str) -> Option<String> {
        if self.hosts.is_empty() {
            return None;
        }
        let raw = raw.trim().replace("&amp;", "&");
        if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let url = Url::parse(&raw).ok()?;
        let allowed = match url.scheme() {
            "http" | "https" => {
                url.username().is_empty()
                    && url.password().is_none()
                    && url.host_str().is_some_and(|h| self.allows_host(h))
            }
            "mailto" => {
                let address = url.path().split([',', '?']).next().unwrap_or_default();
                let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
                !domain.is_empty() && self.allows_host(domain)
            }
            _ => false,
        };
        allowed.then(|| url.as_str().replace('(', "%28").replace(')', "%29"))
    }
}

/// Rewrites markdown links and images in `text` (HTML-safe markdown). With `cut_after`
/// (more text follows that was cut off mid-construct), a final `]` is escaped so that no
/// `](`/`]:` forms across the cut.
pub(crate) fn rewrite(text: &str, allow: &Allowlist, cut_after: bool) -> String {
    if !text.contains(']') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    rewrite_into(text, allow, &mut out, 0);
    if cut_after && out.ends_with(']') && !out.ends_with("\\]") {
        out.pop();
        out.push_str("\\]");
    }
    out
}

const MAX_DEPTH: usize = 3;

fn rewrite_into(text: &str, allow: &Allowlist, out: &mut String, depth: usize) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'[' if depth < MAX_DEPTH => {
                let image = i > 0 && bytes[i - 1] == b'!' && (i < 2 || bytes[i - 2] != b'\\');
                let Some(close) = matching_bracket(bytes, i) else {
                    i += 1;
                    continue;
                };
                let inner = &text[i + 1..close];
                let after = bytes.get(close + 1).copied();
                if after == Some(b'(') {
                    if let Some((dest, end)) = destination(text, close + 1) {
                        let start = if image { (i - 1).max(copied) } else { i };
                        out.push_str(text.get(copied..start).unwrap_or_default());
                        match (image, allow.allowed_url(dest)) {
                            (false, Some(url)) => {
                                out.push('[');
                                rewrite_into(inner, allow, out, depth + 1);
                                out.push_str("](");
                                out.push_str(&url.replace('&', "&amp;"));
                                out.push(')');
                            }
                            _ => rewrite_into(inner, allow, out, depth + 1),
                        }
                        i = end;
                        copied = end;
                        continue;
                    }
                } else if after == Some(b':') {
                    let rest = text.get(close + 2..).unwrap_or_default();
                    let dest = rest.split_whitespace().next().unwrap_or_default();
                    if allow.allowed_url(dest.trim_matches(['<', '>'])).is_some() {
                        i = close + 2;
                        continue;
                    }
                }
                // Not a link: copy the brackets' text (rewritten) and go on after `]`.
                out.push_str(&text[copied..i + 1]);
                rewrite_into(inner, allow, out, depth + 1);
                copied = close;
                i = close;
            }
            b']' => {
                if matches!(bytes.get(i + 1), Some(b'(' | b':')) {
                    out.push_str(&text[copied..=i]);
                    out.push('\\');
                    copied = i + 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
}

/// Index of the `]` closing the `[` at `open` (nesting and backslash escapes respected;
/// a blank line ends the search).
fn matching_bracket(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'\n' if bytes.get(i + 1) == Some(&b'\n') => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parses `(dest "title")` starting at the `(` at `open`; returns the destination and the
/// index after the closing `)`.
fn destination(text: &str, open: usize) -> Option<(&str, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    let inner = text.get(open + 1..i)?.trim();
                    let dest = inner.split_whitespace().next().unwrap_or_default();
                    return Some((dest.trim_start_matches("&lt;").trim_end_matches('>'), i + 1));
                }
            }
            b'\n' if bytes.get(i + 1) == Some(&b'\n') => return None,
            _ => {}
        }
        i += 1;
    }
    None
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
        assert!(a
            .allowed_url("https://docs.example.com@evil.net/")
            .is_none());
        assert!(a
            .allowed_url("https://evil.net\\docs.example.com")
            .is_none());
        assert!(a
            .allowed_url("javascript://docs.example.com/%0aalert(1)")
            .is_none());
    }

    #[test]
    fn images_become_their_alt_text() {
        let out = rewrite(
            "see ![a cat](https://evil.net/x.png?q=secret) here",
            &allow(&["evil.net"]),
            false,
        );
        assert_eq!(out, "see a cat here");
    }

    #[test]
    fn links_to_unlisted_hosts_become_their_text() {
        let out = rewrite(
            "[click](https://evil.net/?d=secret) and [b](javascript:alert(1))",
            &allow(&[]),
            false,
        );
        assert_eq!(out, "click and b");
    }

    #[test]
    fn links_to_allowlisted_hosts_are_kept_normalized() {
        let out = rewrite(
            "[docs](https://DOCS.example.com/a_(b)?x=1&amp;y=2)",
            &allow(&["docs.example.com"]),
            false,
        );
        assert_eq!(
            out,
            "[docs](https://docs.example.com/a_%28b%29?x=1&amp;y=2)"
        );
    }

    #[test]
    fn image_nested_in_link_keeps_only_text() {
        let out = rewrite(
            "[![logo](https://a.io/l.png)](https://a.io)",
            &allow(&["a.io"]),
            false,
        );
        assert_eq!(out, "[logo](https://a.io/)");
    }

    #[test]
    fn reference_definitions_to_unlisted_hosts_are_broken() {
        let out = rewrite("[x][r]\n[r]: https://evil.net/?q=1", &allow(&[]), false);
        assert_eq!(out, "[x][r]\n[r]\\: https://evil.net/?q=1");
    }

    #[test]
    fn stray_link_pieces_are_escaped() {
        assert_eq!(
            rewrite("a](https://evil.net/x)", &allow(&[]), false),
            "a]\\(https://evil.net/x)"
        );
        assert_eq!(
            rewrite("[a](https://evil.net/x", &allow(&[]), false),
            "[a]\\(https://evil.net/x"
        );
        assert_eq!(rewrite("list[0]", &allow(&[]), false), "list[0]");
        assert_eq!(rewrite("list[0]", &allow(&[]), true), "list[0\\]");
    }
}
