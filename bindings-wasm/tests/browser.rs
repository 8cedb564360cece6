//! wasm-bindgen-test of the core in headless Chrome.
#![cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
include!("core_cases.rs");
