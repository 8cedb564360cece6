//! wasm-bindgen-test of the core in Node.
#[cfg(target_arch = "wasm32")]
mod cases {
    include!("cases/core.rs");
}
