//! Shared helpers: settings, a provider client, canned bodies, and a raw TCP stub server.
use governed_chat::config::ProviderSettings;
use governed_chat::provider::{ChatMessage, Provider};
use secrecy::SecretString;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub const KEY: &str = "sk-test-key-0123456789";
pub const USER_TEXT: &str = "Hello there, secret-user-text";
/// The deadline most tests give a call.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// Settings pointing at `base_url` with small, test-friendly limits.
pub fn settings(base_url: &str) -> ProviderSettings {
    ProviderSettings {
        api_key: Some(SecretString::from(KEY)),
        base_url: SecretString::from(base_url),
        reasoning_model: "reasoning-model".to_string(),
        expression_model: "expression-model".to_string(),
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(2),
        max_retries: 2,
        turn_deadline: Duration::from_secs(3),
        max_response_bytes: 4096,
        max_tokens: 256,
        breaker_failures: 0,
        breaker_cooldown: Duration::from_secs(30),
    }
}

pub fn provider(settings: &ProviderSettings) -> Provider {
    Provider::from_settings(settings).expect("the provider builds")
}

/// The `{base}/v1` URL of a wiremock server, as a deployment would configure it.
pub fn v1(server: &wiremock::MockServer) -> String {
    format!("{}/v1", server.uri())
}

pub fn messages() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system("Be brief."),
        ChatMessage::user(USER_TEXT),
    ]
}

/// A Chat Completions response whose first choice says `content`.
pub fn completion(content: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }]
    })
}

/// A loopback port with nothing listening on it (bound, then released).
pub async fn refused_base_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}/v1")
}

/// A raw TCP server: every accepted connection is handed to `handler` with its index
/// (0 for the first). Stops accepting when dropped.
pub struct Stub {
    pub base_url: String,
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Stub {
    pub async fn start<F, Fut>(handler: F) -> Stub
    where
        F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let index = counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(handler(stream, index));
            }
        });
        Stub {
            base_url: format!("http://{address}/v1"),
            accepted,
            task,
        }
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads until the end of the request head (the body, if any, is ignored).
pub async fn read_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Writes a complete 200 response carrying `completion(content)`.
pub async fn write_ok(stream: &mut TcpStream, content: &str) {
    let body = completion(content).to_string();
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}

/// Holds a connection open, silently, for longer than any test runs.
pub async fn hold(stream: TcpStream) {
    tokio::time::sleep(Duration::from_secs(30)).await;
    drop(stream);
}
