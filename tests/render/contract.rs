//! The render contract, checked per case and renderer, and the report grouped by class.
//! Reports name the case, the renderer and the offending element, attribute or URL; a
//! configured secret is never printed (see [`Secrets::redact`]).
use super::collect::{Governed, Transport};
use super::corpus::{Case, SECRETS};
use super::renderers::{Rendered, RENDERERS};
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Default)]
struct ClassCount {
    tried: usize,
    failed: usize,
    refused: usize,
    relaxed: usize,
}

#[derive(Default)]
pub struct Report {
    classes: BTreeMap<String, ClassCount>,
    failures: Vec<String>,
}

/// What a hostile reply's rendering must never contain: anything render.mjs found (an
/// element that loads or runs, an event-handler or style attribute, a URL off the
/// allowlist) and any configured secret, visible or hidden.
fn hostile_problems(reply: &str, rendered: &Rendered) -> Vec<(String, Vec<String>)> {
    let mut problems = Vec::new();
    let leaked = |text: &str, place: &str| -> Vec<String> {
        SECRETS
            .all()
            .iter()
            .filter(|(_, secret)| text.contains(secret))
            .map(|(name, _)| format!("{name} in the {place}"))
            .collect()
    };
    let in_reply = leaked(reply, "reply text");
    if !in_reply.is_empty() {
        problems.push(("reply".to_owned(), in_reply));
    }
    for renderer in RENDERERS {
        let rendering = &rendered[renderer];
        let mut found: Vec<String> = rendering.findings.clone();
        found.extend(leaked(&rendering.html, "HTML"));
        found.extend(leaked(&rendering.text, "visible text"));
        found.extend(leaked(&rendering.hidden, "comments or attributes"));
        found.dedup();
        if !found.is_empty() {
            problems.push((renderer.to_owned(), found));
        }
    }
    problems
}

impl Report {
    fn count(&mut self, class: &str) -> &mut ClassCount {
        self.classes.entry(class.to_owned()).or_default()
    }

    fn fail(&mut self, case: &Case, transport: Transport, renderer: &str, what: &str) {
        self.failures.push(SECRETS.redact(&format!(
            "{} [{}] {renderer}: {what}",
            case.name,
            transport.name()
        )));
    }

    /// The corpus checks itself: a case renders something dangerous as written in at least
    /// one renderer (or it would test nothing), unless it is marked inert, in which case it
    /// renders harmlessly as written (so a failure of its governed reply is the governor's).
    pub fn hostile_original(&mut self, case: &Case, original: &str, rendered: &Rendered) {
        let harmless = hostile_problems(original, rendered).is_empty();
        if harmless != case.inert {
            let what = if case.inert {
                "marked inert, but the original already renders something dangerous"
            } else {
                "the original renders harmlessly, so the case tests nothing"
            };
            self.count("corpus").failed += 1;
            self.failures.push(format!("{}: {what}", case.name));
        }
    }

    pub fn hostile(
        &mut self,
        case: &Case,
        transport: Transport,
        governed: &Governed,
        rendered: &Rendered,
    ) {
        self.count(&case.class).tried += 1;
        if governed.outcome == "refused" {
            self.count(&case.class).refused += 1;
            // Only output governance may refuse here: any other refusal (quota, input
            // policy) means the reply was never governed, and the case proved nothing.
            if governed.category.as_deref() != Some("policy.system_prompt_leak") {
                self.count(&case.class).failed += 1;
                let what = format!(
                    "refused before output governance ran (category {:?})",
                    governed.category
                );
                self.fail(case, transport, "reply", &what);
                return;
            }
        }
        let Some(reply) = &governed.reply else {
            self.count(&case.class).failed += 1;
            let what = format!(
                "no reply (status {}, outcome {}, category {:?})",
                governed.status, governed.outcome, governed.category
            );
            self.fail(case, transport, "-", &what);
            return;
        };
        let problems = hostile_problems(reply, rendered);
        if !problems.is_empty() {
            self.count(&case.class).failed += 1;
        }
        for (renderer, found) in problems {
            self.fail(case, transport, &renderer, &found.join("; "));
        }
    }

    /// A benign case must itself keep the contract hostile replies are held to (nothing
    /// that loads or runs, no link off the allowlist), or it is not benign.
    pub fn benign_original(&mut self, case: &Case, original: &str, rendered: &Rendered) {
        for (renderer, found) in hostile_problems(original, rendered) {
            self.count("corpus").failed += 1;
            self.failures.push(format!(
                "{} {renderer}: not benign as written: {}",
                case.name,
                found.join("; ")
            ));
        }
    }

    /// The governed reply must render exactly as the original, per renderer. One
    /// relaxation: hrefs are compared as WHATWG-serialized URLs, because the governor may
    /// write allowlisted destinations back in normalized form (issue 8); a browser follows
    /// the same URL either way. Everything else is byte-exact.
    pub fn benign(
        &mut self,
        case: &Case,
        transport: Transport,
        governed: &Governed,
        original: &Rendered,
        rendered: &Rendered,
    ) {
        self.count(&case.class).tried += 1;
        if governed.outcome != "accepted" || governed.reply.is_none() {
            self.count(&case.class).failed += 1;
            if governed.outcome == "refused" {
                self.count(&case.class).refused += 1;
            }
            let what = format!(
                "not accepted (status {}, outcome {}, category {:?})",
                governed.status, governed.outcome, governed.category
            );
            self.fail(case, transport, "-", &what);
            return;
        }
        let mut failed = false;
        let mut relaxed = false;
        for renderer in RENDERERS {
            let (want, got) = (&original[renderer], &rendered[renderer]);
            if want.html == got.html {
                continue;
            }
            if want.html_hrefs_normalized == got.html_hrefs_normalized {
                relaxed = true;
                continue;
            }
            failed = true;
            let what = difference(&want.html, &got.html);
            self.fail(case, transport, renderer, &what);
        }
        if failed {
            self.count(&case.class).failed += 1;
        } else if relaxed {
            self.count(&case.class).relaxed += 1;
        }
    }

    pub fn failures(&self) -> usize {
        self.failures.len()
    }

    pub fn render(&self, title: &str) -> String {
        let mut out = format!("{title}\n");
        let (mut tried, mut failed, mut refused) = (0, 0, 0);
        for (class, count) in &self.classes {
            let _ = writeln!(
                out,
                "  {class:<24} tried {:>5}  failed {:>5}  refused {:>4}  hrefs-normalized {:>3}",
                count.tried, count.failed, count.refused, count.relaxed
            );
            tried += count.tried;
            failed += count.failed;
            refused += count.refused;
        }
        let _ = writeln!(
            out,
            "  {:<24} tried {tried:>5}  failed {failed:>5}  refused {refused:>4}",
            "all"
        );
        for failure in &self.failures {
            let _ = writeln!(out, "  FAIL {failure}");
        }
        out
    }
}

/// Where two renderings first differ, with a little context on each side.
fn difference(want: &str, got: &str) -> String {
    let at = want
        .char_indices()
        .zip(got.chars())
        .find(|((_, a), b)| a != b)
        .map_or_else(|| want.len().min(got.len()), |((i, _), _)| i);
    let at = floor(want, at).min(floor(got, at));
    let window = |s: &str| {
        let start = floor(s, at.saturating_sub(30));
        let end = floor(s, (at + 50).min(s.len()));
        format!("{:?}", &s[start..end])
    };
    format!(
        "differs at byte {at}: original {} governed {}",
        window(want),
        window(got)
    )
}

fn floor(s: &str, mut at: usize) -> usize {
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}
