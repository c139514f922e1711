//! patarm: the native core of PaTaRM (preference-aware task-adaptive reward models).
//!
//! Pure Rust, no PyO3: one module per concern. The Python bindings live in `python/`,
//! compiled only with the `python` feature, so `cargo test` needs no interpreter.
//! Every rule and number is stated in docs/method.md; the code cites its sections as
//! "docs/method.md §N".
//!
//! `unsafe` is denied everywhere but in two small modules that state their invariants:
//! `leaked_slot` (the lock-free pool cache of `parallel`) and the bindings' `python/utf8.rs`.

#![deny(unsafe_code)]

pub mod batch;
pub mod decode;
pub mod exact;
pub mod group_par;
#[allow(unsafe_code)]
mod leaked_slot;
pub mod par;
pub mod parallel;
pub mod parse;
pub mod prompt;
pub mod rubrics;
pub mod sampler;
pub mod shape;
pub mod vote;

#[cfg(feature = "python")]
mod python;
