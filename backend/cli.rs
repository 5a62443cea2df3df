//! The command line: `serve` (the default), `check-config`, `migrate`, `status`, `smoke`.
use crate::config::LoadedConfig;
use crate::startup::Application;
use crate::store::Store;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "governed-chat",
    version,
    about = "A chat backend that governs every turn"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Print every configuration problem (or "ok"); exit non-zero when there are any.
    CheckConfig,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Storage backend, schema version, retention and recent outcomes.
    Status {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Run the deployment checklist against a live deployment; exit non-zero on any failure.
    Smoke {
        /// The deployment's base URL, e.g. https://api.example.com.
        #[arg(long)]
        base_url: String,
        /// The frontend origin CORS must allow, e.g. https://app.example.com.
        #[arg(long)]
        origin: Option<String>,
        /// Also write the results as a JSON evidence file here.
        #[arg(long, value_name = "FILE")]
        json: Option<std::path::PathBuf>,
        /// The limit for each whole check; `chat` makes two real model calls, which can take
        /// longer than the default on a slow model.
        #[arg(
            long,
            value_name = "SECONDS",
            default_value_t = crate::smoke::DEFAULT_TIMEOUT.as_secs(),
            value_parser = clap::value_parser!(u64).range(1..=3600)
        )]
        timeout_seconds: u64,
    },
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let config = LoadedConfig::from_process_env();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => return check_config(&config),
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::Status { json } => status(&config, json).await,
        Command::Smoke {
            base_url,
            origin,
            json,
            timeout_seconds,
        } => {
            let options = crate::smoke::SmokeOptions {
                origin,
                timeout: std::time::Duration::from_secs(timeout_seconds),
                ..crate::smoke::SmokeOptions::new(base_url)
            };
            return crate::smoke::command(options, json).await;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Errors carry context, never values: config values are not in them.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn check_config(config: &LoadedConfig) -> ExitCode {
    if config.problems.is_empty() {
        println!("ok ({})", config.settings.environment.as_str());
        return ExitCode::SUCCESS;
    }
    for problem in &config.problems {
        println!("{problem}");
    }
    ExitCode::FAILURE
}

async fn serve(config: LoadedConfig) -> anyhow::Result<()> {
    crate::telemetry::init(&config.settings.log_level);
    let application = Application::build(config).await?;
    application.run_until_stopped().await
}

/// The store commands refuse a DATABASE_URL with a problem, naming it (never its value).
fn database_url_usable(config: &LoadedConfig) -> anyhow::Result<()> {
    let problems: Vec<String> = config
        .problems
        .iter()
        .filter(|problem| problem.variable == "DATABASE_URL")
        .map(ToString::to_string)
        .collect();
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("; "));
    Ok(())
}

async fn migrate(config: &LoadedConfig) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.settings.database.url.is_some(),
        "DATABASE_URL is not set: nothing to migrate"
    );
    database_url_usable(config)?;
    let store =
        Store::from_settings(&config.settings).context("Failed to set up the metadata store")?;
    let report = store
        .migrate()
        .await
        .context("Failed to apply migrations")?;
    println!("{report}");
    Ok(())
}

async fn status(config: &LoadedConfig, json: bool) -> anyhow::Result<()> {
    database_url_usable(config)?;
    let store =
        Store::from_settings(&config.settings).context("Failed to set up the metadata store")?;
    let report = store
        .status()
        .await
        .context("Failed to read status from the metadata store")?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("Failed to encode status")?
        );
    } else {
        println!("{report}");
    }
    Ok(())
}
