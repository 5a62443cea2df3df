//! governed-chat: a chat backend that governs every turn between a web frontend and an
//! LLM provider. `main.rs` is thin; everything is built here so tests spawn the real app.
pub mod auth;
pub mod capacity;
pub mod cli;
pub mod config;
pub mod domain;
pub mod governor;
pub mod http;
pub mod io_runtime;
pub mod metrics;
pub mod provider;
pub mod readiness;
pub mod smoke;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod turn;
