//! `governed-chat smoke`: the deployment checklist, run against a live deployment over
//! HTTP. Liveness, readiness, one governed chat turn, a sanitized 4xx for a malformed body,
//! CORS for the frontend's origin and against a foreign one, and no leaked internals in any
//! response. Prints one line per check and can write a JSON evidence file.
mod checks;
mod report;

pub use checks::DEFAULT_TIMEOUT;
pub use report::{CheckResult, SmokeReport};

use checks::{timed, Checker};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The origin the foreign-origin CORS check pretends to be (`.invalid` never resolves).
pub const FOREIGN_ORIGIN: &str = "https://smoke-foreign.invalid";

/// Every check in the order it runs. `cors_allowed_origin` runs only with an origin.
pub const CHECKS: [&str; 8] = [
    "health",
    "ready",
    "chat",
    "chat_stream",
    "malformed_body",
    "cors_allowed_origin",
    "cors_foreign_origin",
    "no_leaks",
];

#[derive(Debug, Clone)]
pub struct SmokeOptions {
    /// The deployment's base URL, e.g. `https://api.example.com` (a path prefix is kept).
    pub base_url: String,
    /// The frontend origin that must be allowed by CORS, e.g. `https://app.example.com`.
    pub origin: Option<String>,
    /// An origin that must be refused by CORS.
    pub foreign_origin: String,
    /// The limit for each whole check.
    pub timeout: Duration,
}

impl SmokeOptions {
    pub fn new(base_url: impl Into<String>) -> Self {
        SmokeOptions {
            base_url: base_url.into(),
            origin: None,
            foreign_origin: FOREIGN_ORIGIN.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }
}

/// Run every check against the deployment. Never fails: a deployment that cannot be reached
/// (or a base URL that is not one) is a report whose checks failed.
pub async fn run(options: SmokeOptions) -> SmokeReport {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let base_url = options.base_url.trim_end_matches('/').to_owned();
    let setup = |detail: String| {
        let check = CheckResult {
            name: "setup",
            passed: false,
            detail,
            status: None,
            duration_ms: 0,
        };
        SmokeReport::new(base_url.clone(), started_at.clone(), vec![check])
    };
    match url::Url::parse(&base_url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
        _ => return setup(format!("--base-url {base_url:?} is not an http(s) URL")),
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(options.timeout)
        .connect_timeout(options.timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("governed-chat-smoke/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
        Ok(client) => client,
        Err(error) => return setup(format!("could not build an HTTP client: {error}")),
    };

    let timeout = options.timeout;
    let origin = options.origin.clone();
    let mut checker = Checker::new(client, base_url.clone(), options);
    let mut results = vec![
        timed("health", timeout, checker.health()).await,
        timed("ready", timeout, checker.ready()).await,
        timed("chat", timeout, checker.chat()).await,
        timed("chat_stream", timeout, checker.chat_stream()).await,
        timed("malformed_body", timeout, checker.malformed_body()).await,
    ];
    if let Some(origin) = origin {
        results.push(
            timed(
                "cors_allowed_origin",
                timeout,
                checker.cors_allowed_origin(origin),
            )
            .await,
        );
    }
    results.push(
        timed(
            "cors_foreign_origin",
            timeout,
            checker.cors_foreign_origin(),
        )
        .await,
    );
    results.push(timed("no_leaks", timeout, checker.no_leaks()).await);
    SmokeReport::new(base_url, started_at, results)
}

/// The `smoke` command: run, print one line per check, write the evidence file if asked.
/// Exits non-zero when any check failed or the evidence could not be written.
pub async fn command(options: SmokeOptions, json: Option<PathBuf>) -> ExitCode {
    let report = run(options).await;
    println!("{report}");
    if let Some(path) = json {
        if let Err(error) = report.write_json(&path) {
            eprintln!(
                "error: could not write the evidence file {}: {error}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
    }
    if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
