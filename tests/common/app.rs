//! Spawns the real application in-process on a random port, as a black box reached over
//! real sockets. Each test builds its own app with its own environment.
#![allow(dead_code)]

use governed_chat::config::{LoadedConfig, RawEnv};
use governed_chat::startup::{Application, ShutdownHandle};
use reqwest::{Client, Response};
use serde_json::Value;
use std::time::Duration;

pub struct TestAppBuilder {
    env: RawEnv,
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: Client,
    pub shutdown: ShutdownHandle,
    pub stopped: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// A development app with the offline provider and the in-memory store.
pub fn app() -> TestAppBuilder {
    TestAppBuilder {
        env: RawEnv::from_pairs([("ENV", "development"), ("PORT", "0"), ("LOG_LEVEL", "warn")]),
    }
}

/// A production app with every required variable set to valid values. Tests remove or
/// break one variable at a time.
pub fn production_app(database_url: &str, provider_base_url: &str) -> TestAppBuilder {
    app()
        .env("ENV", "production")
        .env("HOST", "127.0.0.1")
        .env("BACKEND_PUBLIC_BASE_URL", "https://api.example.com")
        .env("CORS_ORIGINS", "https://app.example.com")
        .env("DATABASE_URL", database_url)
        .env("MODEL_PROVIDER_API_KEY", "sk-test-provider-key-0000000000")
        .env("MODEL_PROVIDER_BASE_URL", provider_base_url)
        .env("ADDRESS_HASH_KEY", "test-address-hash-key-0123456789")
}

/// A production app with valid config whose database and provider are unreachable (ports
/// that refuse): for everything decided before a dependency is used (CORS, metrics auth).
pub fn unreachable_production_app() -> TestAppBuilder {
    production_app(
        "postgres://postgres@127.0.0.1:1/none",
        "https://127.0.0.1:1/v1",
    )
}

impl TestAppBuilder {
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.set(name, value);
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.env.remove(name);
        self
    }

    /// Point the app at a provider (a wiremock server or stub) on loopback.
    pub fn provider(self, base_url: &str) -> Self {
        self.env("MODEL_PROVIDER_BASE_URL", base_url)
            .env("MODEL_PROVIDER_API_KEY", "sk-test-provider-key-0000000000")
    }

    pub fn config(&self) -> LoadedConfig {
        LoadedConfig::from_env(&self.env)
    }

    pub async fn spawn(self) -> TestApp {
        if std::env::var_os("TEST_LOG").is_some() {
            governed_chat::telemetry::init("debug");
        }
        let application = Application::build(self.config())
            .await
            .expect("the app builds");
        let port = application.port();
        let shutdown = application.shutdown_handle();
        let stopped = tokio::spawn(application.run_until_stopped());
        let app = TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            shutdown,
            stopped,
        };
        app.wait_until_serving().await;
        app
    }
}

impl TestApp {
    async fn wait_until_serving(&self) {
        for _ in 0..100 {
            if self.get("/health").await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the app never answered /health");
    }

    /// Wait until `/ready` answers 200 (the first store check runs in the background).
    pub async fn wait_until_ready(&self) {
        for _ in 0..150 {
            if self.get("/ready").await.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the app never became ready");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Result<Response> {
        self.client.get(self.url(path)).send().await
    }

    pub async fn post_chat(&self, body: &Value) -> Response {
        self.client
            .post(self.url("/api/chat"))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_chat_raw(
        &self,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut request = self.client.post(self.url("/api/chat")).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.expect("request sent")
    }

    pub async fn preflight(&self, path: &str, origin: &str) -> Response {
        self.client
            .request(reqwest::Method::OPTIONS, self.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .expect("preflight sent")
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.shutdown().await;
        self.stopped.await.expect("the app task finished")
    }
}

pub async fn json(response: Response) -> Value {
    let text = response.text().await.expect("body read");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON: {text}"))
}
