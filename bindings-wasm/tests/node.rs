//! wasm-bindgen-test of the core in Node.
#![cfg(target_arch = "wasm32")]
include!("core_cases.rs");
