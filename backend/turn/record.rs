//! The end of every turn, whatever answered it: metrics, one log line and one metadata
//! row (ids, times, outcome, category, sizes, durations; never text). The HTTP layer
//! says which status the client got.
use super::{millis, Turn, TurnResult};
use crate::domain::Category;
use crate::state::AppState;
use crate::store::RequestRecord;
use chrono::Utc;

pub fn record(state: &AppState, turn: Turn, result: &TurnResult, http_status: u16) {
    let Some(outcome) = result.outcome() else {
        return;
    };
    let measures = &turn.measures;
    let provider_time =
        measures.reasoning.unwrap_or_default() + measures.expression.unwrap_or_default();
    let category = result.category();
    let category_text = category.map_or("none", Category::as_str);
    let elapsed = turn.started.elapsed();
    state
        .metrics
        .record_turn(outcome.as_str(), category_text, elapsed, provider_time);
    if measures.streamed {
        state
            .metrics
            .record_stream(outcome.as_str(), measures.first_byte);
    }
    tracing::info!(
        outcome = outcome.as_str(),
        category = category_text,
        streamed = measures.streamed,
        input_chars = measures.input_chars,
        output_chars = measures.output_chars,
        reasoning_ms = measures.reasoning.map(millis),
        expression_ms = measures.expression.map(millis),
        first_byte_ms = measures.first_byte.map(millis),
        total_ms = millis(elapsed),
        "turn finished"
    );
    state.writer.record(RequestRecord {
        request_id: turn.request_id,
        session_id: result.session_id().cloned(),
        started_at: turn.started_at,
        finished_at: Utc::now(),
        outcome,
        category,
        http_status,
        input_chars: measures.input_chars,
        output_chars: measures.output_chars,
        reasoning_ms: measures.reasoning.map(millis),
        expression_ms: measures.expression.map(millis),
        provider_status: measures.provider_status,
        first_byte_ms: measures.first_byte.map(millis),
    });
}
