//! CORS. Production allows exactly the configured origins. Development without
//! `CORS_ORIGINS` allows `http://localhost:*` and `http://127.0.0.1:*` only.
use crate::config::{Environment, Origin, Settings};
use actix_cors::Cors;
use actix_web::http::{header, Method};

pub fn cors(settings: &Settings) -> Cors {
    let base = Cors::default()
        .allowed_methods([Method::GET, Method::POST])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::AUTHORIZATION,
            super::request_context::X_REQUEST_ID,
        ])
        .expose_headers([super::request_context::X_REQUEST_ID])
        .max_age(600);
    let origins = &settings.cors.origins;
    if origins.is_empty() && settings.environment == Environment::Development {
        return base
            .allowed_origin_fn(|origin, _| origin.to_str().is_ok_and(is_local_development_origin));
    }
    // Production with no origins is a config problem (not ready); it still allows nothing.
    origins
        .iter()
        .fold(base, |cors, origin| cors.allowed_origin(origin.as_str()))
}

fn is_local_development_origin(raw: &str) -> bool {
    Origin::parse(raw).is_ok_and(|origin| {
        let rest = origin.as_str().strip_prefix("http://").unwrap_or("");
        let host = rest.rsplit_once(':').map_or(rest, |(host, _port)| host);
        // Origin::parse lower-cases, so a mixed-case raw value is compared as browsers send it.
        raw == origin.as_str() && matches!(host, "localhost" | "127.0.0.1")
    })
}

#[cfg(test)]
mod tests {
    use super::is_local_development_origin;

    #[test]
    fn only_plain_http_loopback_origins_count_as_local_development() {
        for ok in [
            "http://localhost:3000",
            "http://127.0.0.1:5173",
            "http://localhost",
        ] {
            assert!(is_local_development_origin(ok), "{ok}");
        }
        for bad in [
            "https://localhost:3000",
            "http://localhost.evil.net",
            "http://127.0.0.1.evil.net:3000",
            "http://evil.net:3000",
            "null",
            "http://localhost:3000/",
        ] {
            assert!(!is_local_development_origin(bad), "{bad}");
        }
    }
}
