//! The reply of an admitted turn: the reasoning stage whole (its notes are internal), then
//! the expression stage as a stream, every piece through the output governor before it
//! reaches the sink. The whole reply is held to `TURN_DEADLINE_MS`; a client that leaves
//! ends it at once (the upstream request is dropped with it).
use super::{count_chars, Admitted, ReplySink, Turn, TurnResult};
use crate::domain::Category;
use crate::governor;
use crate::provider::{ChatMessage, ProviderError, Stage};
use crate::state::AppState;
use futures::StreamExt;
use std::time::{Duration, Instant};

pub async fn reply(
    state: &AppState,
    admitted: Admitted,
    sink: &mut dyn ReplySink,
) -> (Turn, TurnResult) {
    let Admitted {
        mut turn,
        session_id,
        input,
        permit: _permit,
    } = admitted;
    turn.measures.streamed = sink.live();
    let input = match input {
        Ok(input) => input,
        Err(refusal) => {
            let reply = refusal.reply();
            sink.delta(reply);
            let result = TurnResult::Refused {
                session_id: Some(session_id),
                category: refusal.category,
                reply,
            };
            return (turn, result);
        }
    };
    let deadline = state.settings.provider.turn_deadline;
    let end = tokio::time::Instant::from_std(turn.started) + deadline;
    let gone = sink.gone();
    let outcome = {
        let work = stages(state, &input.text, &mut turn, sink);
        tokio::select! {
            finished = tokio::time::timeout_at(end, work) => {
                finished.unwrap_or(Err(Ending::Aborted(Category::ProviderTimeout)))
            }
            () = gone => Err(Ending::Aborted(Category::ClientDisconnected)),
        }
    };
    let result = match outcome {
        Ok(()) => TurnResult::Accepted { session_id },
        Err(Ending::Aborted(category)) => TurnResult::Aborted {
            session_id: Some(session_id),
            category,
        },
        Err(Ending::Refused(refusal)) => TurnResult::Refused {
            session_id: Some(session_id),
            category: refusal.category,
            reply: refusal.reply(),
        },
    };
    (turn, result)
}

enum Ending {
    Aborted(Category),
    Refused(governor::Refusal),
}

impl From<ProviderError> for Ending {
    fn from(error: ProviderError) -> Self {
        Ending::Aborted(error.category())
    }
}

async fn stages(
    state: &AppState,
    user_text: &str,
    turn: &mut Turn,
    sink: &mut dyn ReplySink,
) -> Result<(), Ending> {
    let budget = remaining(state, turn)?;
    let reasoning = governor::reasoning_messages(user_text);
    let started = Instant::now();
    let notes = state
        .provider
        .complete(Stage::Reasoning, &reasoning, budget)
        .await;
    turn.measures.reasoning = Some(started.elapsed());
    state
        .metrics
        .record_provider_call(Stage::Reasoning.as_str(), notes.as_ref().err().copied());
    let notes = notes?;
    turn.measures.provider_status = Some(notes.status);
    let notes = notes.text;

    let expression: Vec<ChatMessage> = governor::expression_messages(&notes, user_text);
    let budget = remaining(state, turn)?;
    let started = Instant::now();
    let opened = state
        .provider
        .stream(Stage::Expression, &expression, budget, sink.live())
        .await;
    let (mut pieces, status) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            turn.measures.expression = Some(started.elapsed());
            state
                .metrics
                .record_provider_call(Stage::Expression.as_str(), Some(error));
            return Err(error.into());
        }
    };
    turn.measures.provider_status = Some(status);
    let mut governed = state.governor.output_stream(&notes);
    let mut failure = None;
    while let Some(piece) = pieces.next().await {
        match piece {
            Ok(piece) => send(turn, sink, &governed.push(&piece))?,
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    turn.measures.expression = Some(started.elapsed());
    state
        .metrics
        .record_provider_call(Stage::Expression.as_str(), failure);
    if let Some(error) = failure {
        return Err(error.into());
    }
    match governed.finish() {
        Ok(rest) => send(turn, sink, &rest),
        Err(refusal) => Err(Ending::Refused(refusal)),
    }
}

/// Sends a governed piece (nothing when empty), timing the first.
fn send(turn: &mut Turn, sink: &mut dyn ReplySink, text: &str) -> Result<(), Ending> {
    if text.is_empty() {
        return Ok(());
    }
    if turn.measures.first_byte.is_none() {
        turn.measures.first_byte = Some(turn.started.elapsed());
    }
    turn.measures.output_chars = turn.measures.output_chars.saturating_add(count_chars(text));
    if sink.delta(text) {
        Ok(())
    } else {
        Err(Ending::Aborted(Category::ClientDisconnected))
    }
}

fn remaining(state: &AppState, turn: &Turn) -> Result<Duration, Ending> {
    let left = state
        .settings
        .provider
        .turn_deadline
        .saturating_sub(turn.started.elapsed());
    if left.is_zero() {
        return Err(Ending::Aborted(Category::ProviderTimeout));
    }
    Ok(left)
}
