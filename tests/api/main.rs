//! Black-box tests of the HTTP contract: the real app on a random port, real sockets.
#[path = "../common/app.rs"]
mod app;
#[path = "../common/db.rs"]
mod db;
#[path = "../common/provider.rs"]
mod provider;
#[path = "../common/supabase.rs"]
mod supabase;

mod auth;
mod capacity;
mod chat_contract;
mod client_address;
mod cors;
mod fail_closed;
mod metrics;
mod probes;
mod request_id;
mod supabase_js;
mod user_quota;
