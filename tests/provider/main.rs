//! Black-box tests of `governed_chat::provider` against real HTTP servers on loopback:
//! wiremock for ordinary responses, and small hand-written TCP stubs for the pathological
//! ones (silence, resets, bodies that never end).
mod failures;
mod hygiene;
mod offline;
mod pathological;
mod retries;
mod success;
mod support;
#[path = "../common/timing.rs"]
mod timing;
