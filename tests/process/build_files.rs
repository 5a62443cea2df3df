//! The files that build and run the binary elsewhere (the Docker image Railway deploys, the
//! CI container) agree with Cargo.toml, so a deploy builds with the Rust the crate asks for.
use std::path::Path;

fn repository_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The `rust-version` of `[package]` in Cargo.toml.
fn rust_version() -> String {
    repository_file("Cargo.toml")
        .lines()
        .find_map(|line| line.strip_prefix("rust-version = "))
        .map(|value| value.trim_matches('"').to_owned())
        .expect("Cargo.toml declares rust-version")
}

#[test]
fn the_docker_build_uses_the_rust_version_cargo_toml_declares() {
    let dockerfile = repository_file("Dockerfile");
    let build_image = format!("FROM rust:{}-", rust_version());
    assert!(
        dockerfile
            .lines()
            .any(|line| line.starts_with(&build_image)),
        "the Dockerfile does not build FROM {build_image}..."
    );
}

#[test]
fn ci_runs_in_the_rust_version_cargo_toml_declares() {
    let workflow = repository_file(".github/workflows/ci.yml");
    let image = format!("image: rust:{}-", rust_version());
    assert!(
        workflow
            .lines()
            .any(|line| line.trim_start().starts_with(&image)),
        "the CI workflow does not run in {image}..."
    );
    assert!(
        workflow.contains("run: bash .ci/run"),
        "the CI workflow does not run .ci/run"
    );
}

#[test]
fn ci_runs_the_readme_test_command() {
    let readme = repository_file("README.md");
    let test_section = readme
        .split("## Test")
        .nth(1)
        .expect("the README has a Test section");
    let command = test_section
        .split("```")
        .nth(1)
        .map(str::trim)
        .expect("the Test section shows a command");
    let ci = repository_file(".ci/run");
    assert!(
        ci.lines().any(|line| line.trim() == command),
        ".ci/run does not run the README's test command {command:?}"
    );
}

#[test]
fn railway_builds_the_dockerfile_and_runs_the_binary_it_copies() {
    let railway: serde_json::Value =
        serde_json::from_str(&repository_file("railway.json")).expect("railway.json is JSON");
    assert_eq!(railway["build"]["builder"], "DOCKERFILE");
    assert_eq!(railway["build"]["dockerfilePath"], "Dockerfile");
    let dockerfile = repository_file("Dockerfile");
    assert!(dockerfile.contains("WORKDIR /app"), "{dockerfile}");
    assert!(
        dockerfile.contains("/app/governed-chat"),
        "the image puts the binary at /app/governed-chat"
    );
    for command in ["preDeployCommand", "startCommand"] {
        let run = railway["deploy"][command].as_str().unwrap_or_default();
        assert!(
            run.starts_with("./governed-chat "),
            "{command} {run:?} does not run ./governed-chat from /app"
        );
    }
}
