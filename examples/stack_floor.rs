//! The stack's floor, for `bench/run.sh` (issue 11's yardsticks), not a service: actix-web
//! and reqwest, set up as governed-chat sets them up, making a turn's two upstream calls
//! and nothing else (no governance, no store, no logging, no middleware).
//!
//!   cargo run --release --example stack_floor -- <port> <chat-completions-url>
//!
//! `POST /api/chat` with `{"message": "..."}` sends a reasoning request (a system prompt and
//! the message) and an expression request (the first answer's text as a system prompt, the
//! message, `stream: true`) to the URL, each parsed as a whole Chat Completions JSON answer,
//! and answers `{"outcome":"accepted","reply":...}`. `GET /ready` answers 200. Loopback only.
//! What governed-chat's in-memory turn costs above this is what governed-chat itself adds.
use actix_web::{web, App, HttpResponse, HttpServer};
use serde::Deserialize;
use serde_json::json;
use std::net::Ipv4Addr;

const SYSTEM: &str = "Think about the user's message and write short private notes for the writer.";

#[derive(Deserialize)]
struct Turn {
    message: String,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: String,
}

struct Upstream {
    client: reqwest::Client,
    url: String,
}

impl Upstream {
    async fn call(&self, system: &str, message: &str, stream: bool) -> Option<String> {
        let body = json!({
            "model": "floor",
            "max_tokens": 1024,
            "stream": stream,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": message},
            ],
        });
        let response = self.client.post(&self.url).json(&body).send().await.ok()?;
        let completion: Completion = response.error_for_status().ok()?.json().await.ok()?;
        completion
            .choices
            .into_iter()
            .next()
            .map(|c| c.message.content)
    }
}

async fn chat(upstream: web::Data<Upstream>, turn: web::Json<Turn>) -> HttpResponse {
    let Some(notes) = upstream.call(SYSTEM, &turn.message, false).await else {
        return HttpResponse::BadGateway().finish();
    };
    match upstream.call(&notes, &turn.message, true).await {
        Some(reply) => HttpResponse::Ok().json(json!({"outcome": "accepted", "reply": reply})),
        None => HttpResponse::BadGateway().finish(),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(url)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: stack_floor <port> <chat-completions-url>");
    };
    let port: u16 = port.parse()?;
    HttpServer::new(move || {
        // One client per HTTP worker, as governed-chat's provider keeps, with the settings of
        // its client (`provider/openai/clients.rs`) that act on a loopback call; no proxy.
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .expect("a plain HTTP client builds");
        App::new()
            .app_data(web::Data::new(Upstream {
                client,
                url: url.clone(),
            }))
            .route("/api/chat", web::post().to(chat))
            .route("/ready", web::get().to(HttpResponse::Ok))
    })
    .bind((Ipv4Addr::LOCALHOST, port))?
    .run()
    .await?;
    Ok(())
}
