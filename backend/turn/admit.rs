//! Everything decided before a reply can begin: the lifecycle gate, the input contract
//! (judged before anything is counted), the session and its quotas, input governance.
use super::{count_chars, Turn, TurnRequest, TurnResult};
use crate::capacity::TurnPermit;
use crate::domain::{Category, SessionId};
use crate::governor::{GovernedInput, InputRejection, Refusal};
use crate::state::AppState;
use crate::store::{Admission, AdmissionRequest};

/// An admitted turn: its session, and its governed input or the refusal to stream.
pub struct Admitted {
    pub turn: Turn,
    pub session_id: SessionId,
    pub(super) input: Result<GovernedInput, Refusal>,
    /// The turn's slot under `MAX_CONCURRENT_TURNS`, held until its reply ends.
    pub(super) permit: TurnPermit,
}

/// A turn refused before it began because its bearer token was missing (where required),
/// bad or expired: recorded like any other refusal; nothing reaches the provider.
pub fn invalid_token(request_id: &str) -> (Turn, TurnResult) {
    let result = TurnResult::Refused {
        session_id: None,
        category: Category::AuthInvalidToken,
        reply: "",
    };
    (Turn::new(request_id.to_owned()), result)
}

/// Admits the turn, or ends it before any reply: `Invalid` (nothing left of the message),
/// aborted (shutting down, database), refused (quota).
pub async fn admit(
    state: &AppState,
    request: &TurnRequest,
) -> Result<Admitted, (Turn, TurnResult)> {
    let mut turn = Turn::new(request.request_id.clone());
    let readiness = &state.readiness;
    if readiness.is_shutting_down() {
        return Err((turn, aborted(Category::ShuttingDown)));
    }
    if !readiness.database_ok() {
        return Err((turn, aborted(Category::DependencyDatabase)));
    }
    let input = match state.governor.govern_input(&request.message) {
        Err(InputRejection::Empty) => return Err((turn, TurnResult::Invalid)),
        Err(InputRejection::Refused(refusal)) => Err(refusal),
        Ok(input) => Ok(input),
    };
    // Claimed before admission, so a turn over capacity spends no quota.
    let Some(permit) = state.capacity.try_claim() else {
        return Err((turn, aborted(Category::Capacity)));
    };
    let admission = AdmissionRequest {
        session_id: request.session_id.clone(),
        client_address: request.client_address.clone(),
        user: request.user.clone(),
    };
    let query_timeout = state.settings.database.query_timeout;
    let session_id = match tokio::time::timeout(query_timeout, state.store.admit(admission)).await {
        Ok(Ok(Admission::Admitted { session_id, .. })) => session_id,
        Ok(Ok(Admission::OverQuota { session_id })) => {
            let result = TurnResult::Refused {
                session_id,
                category: Category::Quota,
                reply: QUOTA_REPLY,
            };
            return Err((turn, result));
        }
        Ok(Err(_)) | Err(_) => return Err((turn, aborted(Category::DependencyDatabase))),
    };
    if let Ok(input) = &input {
        turn.measures.input_chars = count_chars(&input.text);
    }
    Ok(Admitted {
        turn,
        session_id,
        input,
        permit,
    })
}

fn aborted(category: Category) -> TurnResult {
    TurnResult::Aborted {
        session_id: None,
        category,
    }
}

const QUOTA_REPLY: &str = "You have sent too many messages. Please wait a moment and try again.";
