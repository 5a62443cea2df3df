use figment::providers::Env;
use std::collections::BTreeMap;

/// The environment as plain strings, keyed by upper-case name. Values stay strings on
/// purpose: a key made of digits must load as a string, not as a number that loses
/// leading zeros.
#[derive(Clone, Default)]
pub struct RawEnv(BTreeMap<String, String>);

impl RawEnv {
    /// The process environment, read through figment's raw env provider.
    pub fn from_process() -> Self {
        RawEnv(
            Env::raw()
                .iter()
                .map(|(key, value)| (key.as_str().to_ascii_uppercase(), value))
                .collect(),
        )
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        RawEnv(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into().to_ascii_uppercase(), v.into()))
                .collect(),
        )
    }

    /// A set, non-blank value. Blank counts as unset, as operators expect from `FOO=`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_ascii_uppercase(), value.to_owned());
    }

    pub fn remove(&mut self, name: &str) {
        self.0.remove(&name.to_ascii_uppercase());
    }
}

/// Values may be secrets: never print them.
impl std::fmt::Debug for RawEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}
