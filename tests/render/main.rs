//! The render contract (issue 8): replies sent through the real HTTP path, rendered by the
//! Markdown renderers chat frontends use (markdown-it with html + linkify, marked with GFM,
//! remark-gfm + rehype-raw), in development mode with `LINK_ALLOWLIST=docs.example.com`
//! and two configured secrets.
//! - Hostile corpus plus generated mutations: the governed reply renders to nothing that
//!   loads or runs, no event-handler or style attribute, no href off the allowlist, and no
//!   configured secret. A refusal is allowed and counted.
//! - Benign corpus: the governed reply renders exactly as the original.
//!
//! Every reply is collected as the JSON answer and, once the app answers
//! `Accept: text/event-stream` with a stream, also as the streamed parts (`collect.rs`).
//! Run with `--no-capture` to see the per-class counts of a passing run.
#[path = "../common/app.rs"]
mod app;

mod collect;
mod contract;
mod corpus;
mod mutate;
mod renderers;
mod scripted;

use collect::{Governed, Transport};
use contract::Report;
use corpus::{Case, DEFAULT_NOTES, SECRETS};
use futures::StreamExt;
use renderers::Rendered;
use scripted::{Script, ScriptedProvider};

const ALLOWLIST: [&str; 1] = ["docs.example.com"];
const PROBE: &str = "Please answer the stream probe.";
const TURNS_IN_FLIGHT: usize = 16;

fn message(index: usize) -> String {
    format!("Please answer render case {index}.")
}

struct Harness {
    app: app::TestApp,
    _provider: ScriptedProvider,
    cases: Vec<Case>,
    replies: Vec<String>,
}

async fn harness(cases: Vec<Case>) -> Harness {
    let mut script = Script::new();
    let mut replies = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let notes = SECRETS.fill(case.notes.as_deref().unwrap_or(DEFAULT_NOTES));
        let reply = SECRETS.fill(&case.reply);
        assert!(
            !reply.contains("{{") && !notes.contains("{{"),
            "{}: a placeholder is not filled",
            case.name
        );
        script.insert(message(index), (notes, reply.clone()));
        replies.push(reply);
    }
    script.insert(
        PROBE.to_owned(),
        (DEFAULT_NOTES.to_owned(), "Probe.".to_owned()),
    );
    let provider = ScriptedProvider::start(script, SECRETS.api_key).await;
    let app = app::app()
        .provider(&provider.base_url())
        .env("MODEL_PROVIDER_API_KEY", SECRETS.api_key)
        .env("METRICS_TOKEN", SECRETS.token)
        .env("LINK_ALLOWLIST", &ALLOWLIST.join(","))
        .env("PROVIDER_MAX_RETRIES", "0")
        .env("QUOTA_PER_MINUTE", "1000000")
        .env("QUOTA_PER_DAY", "100000000")
        .env("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1000000")
        .env("TURNS_PER_ADDRESS_PER_HOUR", "100000000")
        .spawn()
        .await;
    app.wait_until_ready().await;
    Harness {
        app,
        _provider: provider,
        cases,
        replies,
    }
}

impl Harness {
    /// JSON always; the stream as soon as the app serves one.
    async fn transports(&self) -> Vec<Transport> {
        let mut transports = vec![Transport::Json];
        if collect::streams(&self.app, PROBE).await {
            transports.push(Transport::EventStream);
        } else {
            println!("streamed collector off: the app does not answer text/event-stream yet");
        }
        transports
    }

    /// Every case's governed reply, in case order.
    async fn collect(&self, transport: Transport) -> Vec<Governed> {
        futures::stream::iter(0..self.cases.len())
            .map(|index| async move {
                collect::collect(&self.app, transport, &message(index)).await
            })
            .buffered(TURNS_IN_FLIGHT)
            .collect()
            .await
    }
}

/// Each transport's governed replies, in case order.
type Collected = Vec<(Transport, Vec<Governed>)>;

impl Harness {
    async fn collect_every_transport(&self) -> Collected {
        let mut collected = Vec::new();
        for transport in self.transports().await {
            collected.push((transport, self.collect(transport).await));
        }
        collected
    }
}

/// Renders `originals` and every collected reply in one Node process: the renderings of
/// the originals, then those of each transport's replies.
fn render_all(originals: &[String], collected: &Collected) -> (Vec<Rendered>, Vec<Vec<Rendered>>) {
    let mut documents = originals.to_vec();
    for (_, governed) in collected {
        documents.extend(governed.iter().map(|g| g.reply.clone().unwrap_or_default()));
    }
    let mut rendered = renderers::render(&documents, &ALLOWLIST).into_iter();
    let originals = rendered.by_ref().take(originals.len()).collect();
    let per_transport = collected
        .iter()
        .map(|(_, governed)| rendered.by_ref().take(governed.len()).collect())
        .collect();
    (originals, per_transport)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_replies_render_to_nothing_that_loads_runs_or_leaks() {
    let seeds = corpus::load(corpus::HOSTILE);
    let mut cases = seeds.clone();
    cases.extend(mutate::mutations(&seeds));
    let harness = harness(cases).await;
    let collected = harness.collect_every_transport().await;
    // The seeds come first in `harness.cases`; mutations are not checked as written.
    let (originals, rendered) = render_all(&harness.replies[..seeds.len()], &collected);
    let mut report = Report::default();
    for ((case, reply), original) in harness.cases.iter().zip(&harness.replies).zip(&originals) {
        report.hostile_original(case, reply, original);
    }
    for ((transport, governed), rendered) in collected.iter().zip(&rendered) {
        for ((case, governed), rendered) in harness.cases.iter().zip(governed).zip(rendered) {
            report.hostile(case, *transport, governed, rendered);
        }
    }
    let summary = report.render(&format!(
        "hostile corpus: {} seeds, {} cases with mutations",
        seeds.len(),
        harness.cases.len()
    ));
    println!("{summary}");
    assert_eq!(
        report.failures(),
        0,
        "hostile replies render dangerously: see the FAIL lines above"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn benign_replies_render_exactly_as_the_model_wrote_them() {
    let harness = harness(corpus::load(corpus::BENIGN)).await;
    let collected = harness.collect_every_transport().await;
    let (originals, rendered) = render_all(&harness.replies, &collected);
    let mut report = Report::default();
    for ((case, reply), original) in harness.cases.iter().zip(&harness.replies).zip(&originals) {
        report.benign_original(case, reply, original);
    }
    for ((transport, governed), rendered) in collected.iter().zip(&rendered) {
        for (((case, governed), original), rendered) in harness
            .cases
            .iter()
            .zip(governed)
            .zip(&originals)
            .zip(rendered)
        {
            report.benign(case, *transport, governed, original, rendered);
        }
    }
    let summary = report.render(&format!("benign corpus: {} cases", harness.cases.len()));
    println!("{summary}");
    assert_eq!(
        report.failures(),
        0,
        "benign replies render differently: see the FAIL lines above"
    );
}
