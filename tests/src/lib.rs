//! `inbox-tests`: the workspace's end-to-end test package.
//!
//! Its tests live in `tests/tests/*.rs`, one file per flow, and drive the public crates the way
//! their users do: today through the `conversation-core` API (whole conversation and dialog
//! lives across machines); once the server exists, over real HTTP and websockets against both
//! stores. Helpers shared by several test files go in this library.
