use std::fmt;

/// The subject (`sub`) of a verified access token: the Supabase user id. It identifies a
/// person, so it is never printed: `Debug` hides it and nothing logs it.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedUser {
    subject: String,
}

impl VerifiedUser {
    pub(crate) fn new(subject: String) -> Self {
        VerifiedUser { subject }
    }

    /// The user id, for the store to hash. Never log it.
    pub fn into_subject(self) -> String {
        self.subject
    }
}

impl fmt::Debug for VerifiedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifiedUser(..)")
    }
}
