//! A tiny loopback HTTP server that serves one HTML page calling the app with `fetch`.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub struct PageServer {
    listener: Option<TcpListener>,
    host: String,
    port: u16,
    loads: Arc<AtomicUsize>,
}

/// The page: POST a chat message to the app and put the outcome (or the error) in the
/// title; note whether the exposed `X-Request-Id` header is readable.
fn page(app_address: &str) -> String {
    format!(
        r#"<!doctype html>
<html><head><title>pending</title></head>
<body><p id="request-id">pending</p>
<script>
fetch("{app_address}/api/chat", {{
  method: "POST",
  headers: {{ "content-type": "application/json" }},
  body: JSON.stringify({{ message: "hello from the browser" }})
}})
  .then(async (response) => {{
    const body = await response.json();
    const id = response.headers.get("x-request-id");
    document.getElementById("request-id").textContent = id && id === body.request_id ? "exposed" : "hidden";
    document.title = "ok:" + body.outcome;
  }})
  .catch((err) => {{ document.title = "blocked:" + err; }});
</script>
</body></html>"#
    )
}

impl PageServer {
    pub async fn bind() -> PageServer {
        Self::bind_on("127.0.0.1").await
    }

    pub async fn bind_on(host: &str) -> PageServer {
        let listener = TcpListener::bind((host, 0))
            .await
            .expect("a loopback port for the page");
        let port = listener.local_addr().expect("bound").port();
        PageServer {
            listener: Some(listener),
            host: host.to_owned(),
            port,
            loads: Arc::default(),
        }
    }

    /// The origin a browser sends for this page.
    pub fn origin(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    pub fn page_url(&self) -> String {
        format!("{}/", self.origin())
    }

    pub fn page_loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }

    /// Serve the page (calling the app at `app_address`) until the test ends. `/` is the
    /// page; anything else (e.g. `/favicon.ico`) is 404.
    pub fn serve(&mut self, app_address: &str) {
        let html = page(app_address);
        let loads = Arc::clone(&self.loads);
        let listener = self
            .listener
            .take()
            .expect("each page server is served once");
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let html = html.clone();
                let loads = Arc::clone(&loads);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buffer = [0u8; 2048];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let is_page = head.starts_with(b"GET / ");
                    let response = if is_page {
                        loads.fetch_add(1, Ordering::SeqCst);
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{html}",
                            html.len()
                        )
                    } else {
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_owned()
                    };
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
    }
}
