//! Where and how we authenticate: the `{base}/chat/completions` URL and the bearer header.
//! Errors name the setting, never its value (the URL may hold credentials).
use anyhow::{anyhow, bail};
use reqwest::header::HeaderValue;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

/// `{base}/chat/completions`, whether or not `base` ends in a slash; a query string is kept.
pub(super) fn chat_completions_url(base: &SecretString) -> anyhow::Result<Url> {
    let mut url = Url::parse(base.expose_secret().trim())
        .map_err(|_| anyhow!("MODEL_PROVIDER_BASE_URL is not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("MODEL_PROVIDER_BASE_URL must be an http or https URL");
    }
    // reqwest would turn `user:password@` into a second `Authorization` header.
    if !url.username().is_empty() || url.password().is_some() {
        bail!("MODEL_PROVIDER_BASE_URL must not contain user:password (the key goes in MODEL_PROVIDER_API_KEY)");
    }
    url.path_segments_mut()
        .map_err(|_| anyhow!("MODEL_PROVIDER_BASE_URL cannot be a base URL"))?
        .pop_if_empty()
        .extend(["chat", "completions"]);
    url.set_fragment(None);
    Ok(url)
}

/// The `Authorization` header value; the only place the key is exposed.
pub(super) fn bearer(key: &SecretString) -> anyhow::Result<HeaderValue> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {}", key.expose_secret())).map_err(|_| {
            anyhow!("MODEL_PROVIDER_API_KEY contains characters not allowed in a header")
        })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(base: &str) -> String {
        chat_completions_url(&SecretString::from(base))
            .unwrap()
            .to_string()
    }

    #[test]
    fn the_endpoint_joins_with_or_without_a_trailing_slash() {
        assert_eq!(
            joined("https://api.openai.com/v1"),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            joined("https://api.openai.com/v1/"),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            joined("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/chat/completions"
        );
        assert_eq!(
            joined("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/chat/completions"
        );
        assert_eq!(
            joined("https://h/x/v1?api-version=1#frag"),
            "https://h/x/v1/chat/completions?api-version=1"
        );
    }

    #[test]
    fn bad_base_urls_are_refused_without_echoing_them() {
        for base in [
            "not a url secret-token",
            "ftp://secret-token@h/",
            "mailto:secret-token@h",
            "https://user:secret-token@h/v1",
        ] {
            let error = chat_completions_url(&SecretString::from(base)).unwrap_err();
            assert!(!format!("{error:#}").contains("secret-token"), "{error:#}");
        }
    }

    #[test]
    fn the_bearer_header_is_sensitive() {
        let value = bearer(&SecretString::from("sk-test")).unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("sk-test"));
    }
}
