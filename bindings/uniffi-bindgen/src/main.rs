//! The `uniffi-bindgen` command, built from the workspace so that it always
//! matches the uniffi version of `rosterdb-ffi`.
//!
//! `cargo run -p uniffi-bindgen -- generate --library <cdylib> --language kotlin --out-dir <dir>`

fn main() {
    uniffi::uniffi_bindgen_main()
}
