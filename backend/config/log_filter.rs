//! `LOG_LEVEL`: a tracing filter that must name a level or a target we log from. The filter
//! syntax takes any bare word as a target, so a misspelt level (`warnn`) would parse and
//! silently turn every log line off.
use tracing_subscriber::EnvFilter;

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Crates whose events a directive may name without a level (`governed_chat` = all levels).
const TARGETS: [&str; 12] = [
    "governed_chat",
    "actix_web",
    "actix_server",
    "actix_http",
    "tokio_postgres",
    "deadpool_postgres",
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "tokio",
];

/// Why `filter` is not a usable `LOG_LEVEL`, if it is not.
pub fn problem(filter: &str) -> Option<&'static str> {
    const REASON: &str =
        "is not a level or filter (e.g. info, debug, governed_chat=debug,actix_web=warn)";
    if EnvFilter::try_new(filter).is_err() {
        return Some(REASON);
    }
    let every_directive_names_something = filter
        .split(',')
        .map(str::trim)
        .filter(|directive| !directive.is_empty())
        .all(|directive| match directive.rsplit_once('=') {
            Some((_, level)) => is_level(level),
            None => is_level(directive) || is_known_target(directive),
        });
    (!every_directive_names_something).then_some(REASON)
}

fn is_level(word: &str) -> bool {
    let word = word.trim();
    LEVELS.iter().any(|level| word.eq_ignore_ascii_case(level))
        || matches!(word, "0" | "1" | "2" | "3" | "4" | "5")
}

fn is_known_target(directive: &str) -> bool {
    let target = directive.split(['[', ':']).next().unwrap_or_default();
    TARGETS.contains(&target)
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn levels_targets_and_directives_are_usable_filters() {
        for good in [
            "info",
            "WARN",
            "off",
            "debug,actix_web=warn",
            "governed_chat=debug,tokio_postgres=info",
            "governed_chat",
            "governed_chat::store=trace",
            "governed_chat[turn]=debug",
        ] {
            assert_eq!(problem(good), None, "{good}");
        }
    }

    #[test]
    fn a_misspelt_level_or_an_unknown_bare_word_is_a_problem() {
        for bad in [
            "warnn",
            "inf",
            "info,debugg",
            "governed_chat=loud",
            "chatty",
        ] {
            assert!(problem(bad).is_some(), "{bad} accepted");
        }
    }
}
