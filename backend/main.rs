//! Thin entry point: everything lives in the library so tests run the same code.
#[tokio::main]
async fn main() -> std::process::ExitCode {
    governed_chat::cli::run().await
}
