//! wasm-bindgen-test of the core in headless Chrome.
#[cfg(target_arch = "wasm32")]
mod cases {
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
    include!("cases/core.rs");
}
