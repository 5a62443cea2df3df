use serde::Serialize;

/// The three things that can happen to a chat turn. Telemetry is categorical: this
/// enum and [`Category`] are the only words we record about a turn's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Accepted,
    Refused,
    Aborted,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Accepted, Outcome::Refused, Outcome::Aborted];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Refused => "refused",
            Outcome::Aborted => "aborted",
        }
    }
}

macro_rules! categories {
    ($($variant:ident => $text:literal),+ $(,)?) => {
        /// Why a turn was refused or aborted. The string form is stable: it is stored in the
        /// database (CHECK-constrained), exported as a metric label and returned to clients.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Category {
            $($variant),+
        }

        impl Category {
            pub const ALL: &'static [Category] = &[$(Category::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Category::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Category> {
                match text {
                    $($text => Some(Category::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

categories! {
    PromptInjection => "policy.prompt_injection",
    SystemPromptExtraction => "policy.system_prompt_extraction",
    InputTooLong => "policy.input_too_long",
    SystemPromptLeak => "policy.system_prompt_leak",
    Quota => "quota",
    ProviderTimeout => "provider.timeout",
    ProviderUnavailable => "provider.unavailable",
    ProviderBadResponse => "provider.bad_response",
    ProviderRateLimited => "provider.rate_limited",
    ProviderAuth => "provider.auth",
    ProviderRejected => "provider.rejected",
    AuthInvalidToken => "auth.invalid_token",
    Capacity => "capacity",
    ClientDisconnected => "client.disconnected",
    DependencyDatabase => "dependency.database",
    ShuttingDown => "dependency.shutting_down",
    Internal => "internal",
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_round_trips_through_its_string_form() {
        for category in Category::ALL {
            assert_eq!(Category::parse(category.as_str()), Some(*category));
        }
    }
}
