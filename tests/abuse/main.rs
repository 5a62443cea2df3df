//! The abuse suite: hostile strings (the Big List of Naughty Strings) as messages, model
//! replies and header values; transport abuse (malformed, huge, slow, many); CORS abuse;
//! and memory under a burst. The server must never answer 5xx, never hang, never echo
//! anything executable, and every answer must be the sanitized JSON or a bodiless status.
#[path = "../common/app.rs"]
mod app;

#[path = "../common/provider.rs"]
mod provider;

mod blns;
mod connections;
mod cors;
mod memory;
mod support;
#[path = "../common/timing.rs"]
mod timing;
mod transport;
