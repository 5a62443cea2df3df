//! A real browser enforces the service's CORS: headless Chromium loads a page from the
//! allowed origin and one from a foreign origin (two loopback servers), each page calls
//! `POST /api/chat` with `fetch`, and the page title says what the browser allowed.
//! Chromium is required: if it is missing this fails (run `scripts/provision-browser.sh`).
//! The Next.js example's tests (nextjs.rs) also need it built (`scripts/provision-nextjs.sh`).
#[path = "../common/app.rs"]
mod app;

mod nextjs;
mod nextjs_page;
mod page;
mod streaming_provider;

use page::PageServer;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMIUM_LIMIT: Duration = Duration::from_secs(30);

/// Load `url` in headless Chromium and return the final DOM it prints.
async fn dump_dom(url: &str) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "headless Chromium is required at {CHROMIUM} for the browser CORS tests: install it with scripts/provision-browser.sh (apt-get install chromium)"
    );
    let profile = tempfile::tempdir().expect("a profile directory");
    let mut command = tokio::process::Command::new(CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("{CHROMIUM} could not be started: {e}"));
    let output = match tokio::time::timeout(CHROMIUM_LIMIT, child.wait_with_output()).await {
        Ok(output) => output.expect("Chromium's output is readable"),
        // Dropping the future drops the child, which kill_on_drop kills.
        Err(_) => panic!("Chromium did not finish {url} within {CHROMIUM_LIMIT:?}"),
    };
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && dom.contains("<html"),
        "Chromium failed on {url} after {:?} ({}):\n{}\n{dom}",
        started.elapsed(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    dom
}

/// The text of `<title>` in a dumped DOM.
fn title(dom: &str) -> &str {
    let start = dom
        .find("<title>")
        .map(|i| i + "<title>".len())
        .expect("the DOM has a title");
    let end = dom[start..].find("</title>").expect("the title closes") + start;
    &dom[start..end]
}

/// The text of the element with id `id` (a `<p>` without children).
fn text_of<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let open = format!("id=\"{id}\">");
    let start = dom.find(&open)? + open.len();
    let end = dom[start..].find('<')? + start;
    Some(&dom[start..end])
}

#[tokio::test]
async fn a_browser_on_the_allowed_origin_gets_a_governed_reply_and_a_foreign_origin_is_blocked() {
    let mut allowed = PageServer::bind().await;
    let mut foreign = PageServer::bind().await;
    let app = app::app()
        .env("CORS_ORIGINS", &allowed.origin())
        .spawn()
        .await;
    allowed.serve(&app.address);
    foreign.serve(&app.address);

    let dom = dump_dom(&allowed.page_url()).await;
    assert_eq!(title(&dom), "ok:accepted", "the allowed page:\n{dom}");
    assert_eq!(
        text_of(&dom, "request-id"),
        Some("exposed"),
        "X-Request-Id is readable from the page:\n{dom}"
    );

    let dom = dump_dom(&foreign.page_url()).await;
    let blocked = title(&dom);
    eprintln!("foreign page title: {blocked}");
    assert!(
        blocked.starts_with("blocked:TypeError"),
        "the foreign page was not blocked by CORS: {blocked}\n{dom}"
    );
    assert_eq!(text_of(&dom, "request-id"), Some("pending"), "{dom}");

    // Both pages were really loaded from their own origins.
    assert!(allowed.page_loads() >= 1 && foreign.page_loads() >= 1);
    app.stop().await.expect("the app stops cleanly");
}

#[tokio::test]
async fn a_browser_on_a_foreign_origin_is_blocked_even_by_the_development_default() {
    // The development default allows http://localhost:* and http://127.0.0.1:*, so the
    // foreign page is served on a name that is neither: the literal loopback IPv4 alias
    // 127.0.0.2 is not an allowed origin host.
    let mut foreign = PageServer::bind_on("127.0.0.2").await;
    let app = app::app().spawn().await;
    foreign.serve(&app.address);
    let dom = dump_dom(&foreign.page_url()).await;
    assert!(
        title(&dom).starts_with("blocked:TypeError"),
        "{}\n{dom}",
        title(&dom)
    );

    // The same page from an allowed development origin goes through.
    let mut local = PageServer::bind().await;
    local.serve(&app.address);
    let dom = dump_dom(&local.page_url()).await;
    assert_eq!(title(&dom), "ok:accepted", "{dom}");
}
