//! Tests of the real binary: process start-up, signals, the command line, and what it prints.
#[path = "../common/db.rs"]
mod db;
#[path = "../common/process.rs"]
mod process;

#[path = "../common/provider.rs"]
mod provider;
#[path = "../common/supabase.rs"]
mod supabase;

mod build_files;
mod check_config;
mod cli;
mod secrets;
mod shutdown;
mod telemetry;
