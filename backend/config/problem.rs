use serde::Serialize;
use std::fmt;

/// One thing wrong with the configuration. Names the variable, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub variable: String,
    pub reason: String,
}

impl Problem {
    pub fn new(variable: impl Into<String>, reason: impl Into<String>) -> Self {
        Problem {
            variable: variable.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.reason)
    }
}
