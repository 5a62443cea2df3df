//! Typed configuration from the environment, validated strictly and failing closed: loading
//! never aborts; it yields settings (with safe defaults where a value was bad) plus the list
//! of every problem, and any problem makes the service not ready.
mod auth;
mod database_url;
mod env;
mod load;
mod log_filter;
mod names;
mod origin;
mod problem;
mod settings;
mod validate;

pub use database_url::{DatabaseUrl, SslMode};
pub use env::RawEnv;
pub use load::LoadedConfig;
pub use origin::Origin;
pub use problem::Problem;
pub use settings::*;

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod tests;
