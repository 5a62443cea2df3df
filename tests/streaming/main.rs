//! Governed streaming through the real HTTP path: `POST /api/chat` with
//! `Accept: text/event-stream` against a real streaming upstream on loopback.
#[path = "../common/app.rs"]
mod app;
mod sse;
mod upstream;

mod contract;
mod failures;
