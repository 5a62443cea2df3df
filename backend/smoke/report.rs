//! The smoke report: one result per check, printed as one line each and written as a JSON
//! evidence file for the deployment record.
use serde::Serialize;
use std::fmt;
use std::path::Path;

/// The result of one check. `status` is the HTTP status of the check's last response (none
/// when the check made no request or got no answer).
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
}

/// Every check of one run against one deployment.
#[derive(Debug, Clone, Serialize)]
pub struct SmokeReport {
    pub base_url: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub checks: Vec<CheckResult>,
    pub passed: bool,
}

impl SmokeReport {
    pub fn new(base_url: String, started_at: String, checks: Vec<CheckResult>) -> Self {
        let passed = !checks.is_empty() && checks.iter().all(|check| check.passed);
        SmokeReport {
            base_url,
            started_at,
            checks,
            passed,
        }
    }

    /// The result of the check called `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|check| check.name == name)
    }

    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|check| !check.passed)
    }

    /// Write the JSON evidence file (pretty-printed, with a trailing newline).
    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        std::fs::write(path, text)
    }
}

impl fmt::Display for CheckResult {
    /// `PASS health: 200 {"status":"ok"} (3 ms)` or `FAIL ready: got 503 ... (2 ms)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed { "PASS" } else { "FAIL" };
        write!(
            f,
            "{verdict} {}: {} ({} ms)",
            self.name, self.detail, self.duration_ms
        )
    }
}

impl fmt::Display for SmokeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.checks {
            writeln!(f, "{check}")?;
        }
        let failed = self.failures().count();
        if self.passed {
            write!(
                f,
                "smoke passed: {} checks against {}",
                self.checks.len(),
                self.base_url
            )
        } else {
            write!(
                f,
                "smoke FAILED: {failed} of {} checks against {}",
                self.checks.len(),
                self.base_url
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &'static str, passed: bool) -> CheckResult {
        CheckResult {
            name,
            passed,
            detail: "detail".into(),
            status: Some(200),
            duration_ms: 1,
        }
    }

    #[test]
    fn a_report_passes_only_when_every_check_passed() {
        let all = SmokeReport::new(
            "u".into(),
            "t".into(),
            vec![check("a", true), check("b", true)],
        );
        assert!(all.passed);
        let one_failed = SmokeReport::new(
            "u".into(),
            "t".into(),
            vec![check("a", true), check("b", false)],
        );
        assert!(!one_failed.passed);
        assert_eq!(
            one_failed.failures().map(|c| c.name).collect::<Vec<_>>(),
            ["b"]
        );
        assert!(
            !SmokeReport::new("u".into(), "t".into(), vec![]).passed,
            "no checks is no evidence"
        );
    }

    #[test]
    fn each_check_prints_as_one_line_starting_with_its_verdict() {
        assert_eq!(
            check("health", true).to_string(),
            "PASS health: detail (1 ms)"
        );
        assert_eq!(
            check("ready", false).to_string(),
            "FAIL ready: detail (1 ms)"
        );
    }
}
