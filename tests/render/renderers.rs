//! The frontends' Markdown renderers, run by Node (`tests/renderers/render.mjs`, installed
//! by `npm ci` in scripts/test.sh): every document of a test in one process.
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const RENDERERS: [&str; 3] = ["markdown-it", "marked", "remark"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rendering {
    pub html: String,
    /// `html` with every href written as the WHATWG URL serializer writes it.
    pub html_hrefs_normalized: String,
    /// What would load, run or navigate off the allowlist (see render.mjs).
    pub findings: Vec<String>,
    /// The visible text, every text node concatenated.
    pub text: String,
    /// Comments and attribute values: in the page, though not shown.
    pub hidden: String,
}

/// One rendering per renderer name.
pub type Rendered = BTreeMap<String, Rendering>;

fn package_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/renderers")
}

/// Renders each Markdown document with every renderer; links to `allowlist` hosts are allowed.
pub fn render(documents: &[String], allowlist: &[&str]) -> Vec<Rendered> {
    let dir = package_dir();
    assert!(
        dir.join("node_modules").is_dir(),
        "the renderers are not installed: run `npm ci --prefix tests/renderers` (scripts/test.sh does)"
    );
    let mut child = Command::new("node")
        .arg(dir.join("render.mjs"))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (scripts/test.sh installs it)");
    let input = serde_json::json!({ "allowlist": allowlist, "documents": documents });
    let mut stdin = child.stdin.take().expect("node's stdin");
    let writer = std::thread::spawn(move || {
        stdin
            .write_all(input.to_string().as_bytes())
            .expect("documents written to node")
    });
    let output = child.wait_with_output().expect("node finished");
    writer.join().expect("the writer thread finished");
    assert!(
        output.status.success(),
        "render.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rendered: Vec<Rendered> =
        serde_json::from_slice(&output.stdout).expect("render.mjs prints JSON");
    assert_eq!(
        rendered.len(),
        documents.len(),
        "one rendering per document"
    );
    for one in &rendered {
        assert!(
            RENDERERS.iter().all(|name| one.contains_key(*name)),
            "every renderer rendered"
        );
    }
    rendered
}
