//! Types that every room shares. They parse at the edge, so the rest of the code
//! cannot hold an invalid value.
mod outcome;
mod request_id;
mod session_id;

pub use outcome::{Category, Outcome};
pub use request_id::RequestId;
pub use session_id::SessionId;
