//! Governed streaming through the real HTTP path: `POST /api/chat` with
//! `Accept: text/event-stream` against a real streaming upstream on loopback.
#[path = "../common/app.rs"]
mod app;
#[path = "../common/db.rs"]
mod db;
mod sse;
mod upstream;

mod contract;
mod failures;
mod record;
