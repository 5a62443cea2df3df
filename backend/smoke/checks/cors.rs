//! CORS checks: the frontend's origin is allowed, a foreign origin is refused.
use super::{fail, pass, response_status, Checker, Verdict};
use reqwest::header::ORIGIN;
use reqwest::{Method, RequestBuilder};

impl Checker {
    /// A preflight from the frontend's origin is allowed (and an actual request carries
    /// `Access-Control-Allow-Origin` for it), without credentials.
    pub async fn cors_allowed_origin(&mut self, origin: String) -> Verdict {
        let index = match self
            .send(
                format!("cors_allowed_origin: OPTIONS /api/chat from {origin}"),
                self.preflight(&origin),
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(None, error),
        };
        let response = &self.observed[index];
        let status = Some(response.status);
        let allowed = response.header("access-control-allow-origin");
        if !(200..300).contains(&response.status) || allowed != Some(origin.as_str()) {
            return fail(
                status,
                format!(
                    "preflight got {} with {}, expected {origin:?}",
                    response.status,
                    allow_origin(allowed)
                ),
            );
        }
        if response.header("access-control-allow-credentials") == Some("true") {
            return fail(status, "preflight allows credentials");
        }
        let actual = self
            .request(Method::GET, "/health")
            .header(ORIGIN, origin.as_str());
        let index = match self
            .send(
                format!("cors_allowed_origin: GET /health from {origin}"),
                actual,
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(status, error),
        };
        let response = &self.observed[index];
        let allowed = response.header("access-control-allow-origin");
        if allowed != Some(origin.as_str()) {
            return fail(
                Some(response.status),
                format!("GET /health from the origin got {}", allow_origin(allowed)),
            );
        }
        pass(
            status,
            format!("preflight {} allows {origin}", response_status(status)),
        )
    }

    /// A preflight (and an actual request) from a foreign origin gets no
    /// `Access-Control-Allow-Origin`.
    pub async fn cors_foreign_origin(&mut self) -> Verdict {
        let foreign = self.options.foreign_origin.clone();
        let index = match self
            .send(
                format!("cors_foreign_origin: OPTIONS /api/chat from {foreign}"),
                self.preflight(&foreign),
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(None, error),
        };
        let response = &self.observed[index];
        let status = Some(response.status);
        if let Some(allowed) = response.header("access-control-allow-origin") {
            return fail(
                status,
                format!(
                    "preflight from {foreign} got {} with Access-Control-Allow-Origin {allowed:?}",
                    response.status
                ),
            );
        }
        if (200..300).contains(&response.status) {
            return fail(
                status,
                format!(
                    "preflight from {foreign} got {} (expected a refusal)",
                    response.status
                ),
            );
        }
        let actual = self
            .request(Method::GET, "/health")
            .header(ORIGIN, foreign.as_str());
        let index = match self
            .send(
                format!("cors_foreign_origin: GET /health from {foreign}"),
                actual,
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(status, error),
        };
        if let Some(allowed) = self.observed[index].header("access-control-allow-origin") {
            return fail(
                status,
                format!("GET /health from {foreign} got Access-Control-Allow-Origin {allowed:?}"),
            );
        }
        pass(
            status,
            format!(
                "preflight from {foreign} refused with {} and no Access-Control-Allow-Origin",
                response_status(status)
            ),
        )
    }

    fn preflight(&self, origin: &str) -> RequestBuilder {
        self.request(Method::OPTIONS, "/api/chat")
            .header(ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
    }
}

/// `no Access-Control-Allow-Origin` or `Access-Control-Allow-Origin "value"`.
fn allow_origin(value: Option<&str>) -> String {
    value.map_or_else(
        || "no Access-Control-Allow-Origin".to_owned(),
        |v| format!("Access-Control-Allow-Origin {v:?}"),
    )
}
