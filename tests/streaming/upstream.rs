//! A real OpenAI-compatible upstream on loopback that streams: the reasoning request
//! (`"stream": false`) gets a JSON completion with the notes; the expression request
//! (`"stream": true`) gets server-sent events, one chunk per piece with a pause before
//! each, then `[DONE]` (or silence, or a dropped connection). It records when a client
//! closed a stream it was still writing.
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone)]
pub enum End {
    /// `data: [DONE]` and the connection closed.
    Done,
    /// Nothing more, the connection held open.
    Silence,
    /// Keep writing pieces every `pause` until the client leaves.
    Forever,
}

#[derive(Clone)]
pub struct Script {
    pub notes: String,
    pub pieces: Vec<String>,
    pub pause: Duration,
    pub end: End,
    /// Answer the expression stage with this status (and no stream) instead.
    pub expression_status: Option<u16>,
    /// How long the reasoning stage takes to answer.
    pub notes_delay: Duration,
}

impl Script {
    pub fn streaming(pieces: &[&str], pause: Duration) -> Self {
        Script {
            notes: "- goal: answer briefly".to_owned(),
            pieces: pieces.iter().map(|p| p.to_string()).collect(),
            pause,
            end: End::Done,
            expression_status: None,
            notes_delay: Duration::ZERO,
        }
    }
}

#[derive(Default)]
pub struct Seen {
    /// When a client closed a stream this upstream was still writing.
    pub closed_at: Option<Instant>,
    pub expression_requests: usize,
    pub first_piece_at: Option<Instant>,
}

pub struct Upstream {
    pub base_url: String,
    pub seen: Arc<Mutex<Seen>>,
}

impl Upstream {
    pub async fn start(script: Script) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind upstream");
        let address = listener.local_addr().expect("upstream address");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, script.clone(), Arc::clone(&shared)));
            }
        });
        Upstream {
            base_url: format!("http://{address}/v1"),
            seen,
        }
    }

    pub fn seen<T>(&self, read: impl FnOnce(&Seen) -> T) -> T {
        read(&self.seen.lock().expect("seen lock"))
    }
}

async fn serve(mut socket: TcpStream, script: Script, seen: Arc<Mutex<Seen>>) {
    let Some(body) = read_request(&mut socket).await else {
        return;
    };
    let streamed = body["stream"].as_bool().unwrap_or(false);
    if !streamed {
        tokio::time::sleep(script.notes_delay).await;
        let completion =
            json!({"choices": [{"message": {"role": "assistant", "content": script.notes}}]});
        let _ = write_json(&mut socket, 200, &completion).await;
        return;
    }
    seen.lock().expect("seen lock").expression_requests += 1;
    if let Some(status) = script.expression_status {
        let _ = write_json(
            &mut socket,
            status,
            &json!({"error": {"message": "upstream detail zqxUPSTREAM"}}),
        )
        .await;
        return;
    }
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let mut index = 0usize;
    loop {
        let piece = match script.pieces.get(index) {
            Some(piece) => piece.clone(),
            None if matches!(script.end, End::Forever) => "more ".to_owned(),
            None => break,
        };
        index += 1;
        tokio::time::sleep(script.pause).await;
        let chunk = json!({"choices": [{"index": 0, "delta": {"content": piece}}]});
        let written = socket
            .write_all(format!("data: {chunk}\n\n").as_bytes())
            .await
            .and(socket.flush().await);
        if written.is_err() {
            seen.lock().expect("seen lock").closed_at = Some(Instant::now());
            return;
        }
        seen.lock()
            .expect("seen lock")
            .first_piece_at
            .get_or_insert_with(Instant::now);
    }
    match script.end {
        End::Done | End::Forever => {
            let _ = socket.write_all(b"data: [DONE]\n\n").await;
        }
        End::Silence => {
            // Hold the connection until the client gives up on it.
            let mut buffer = [0u8; 64];
            let _ = tokio::time::timeout(Duration::from_secs(30), socket.read(&mut buffer)).await;
        }
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Value> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        let Some(head_end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if buffer.len() >= head_end + 4 + length {
            return serde_json::from_slice(&buffer[head_end + 4..head_end + 4 + length]).ok();
        }
    }
}

async fn write_json(socket: &mut TcpStream, status: u16, body: &Value) -> std::io::Result<()> {
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body.as_bytes()).await
}
