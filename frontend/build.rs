//! Links the release wasm with one data segment per static, not one for them all.
//!
//! `cargo leptos build --split` moves each wasm chunk's code, and the read-only data only it
//! uses, out of the main wasm, but only when the data's new layout fits in the segment it came
//! from. Packed into one segment, every chunk's strings and tables stayed in the main wasm (the
//! split tool gives up on a segment that grows by even a few bytes of alignment); one segment
//! per static lets each go where it is used: 19 KB less Brotli in the main wasm. Release builds
//! only: the split writes every segment into every chunk (empty where it is not theirs), which
//! `wasm-opt` removes from a release build, but a debug build keeps, with their names.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo:rustc-link-arg-cdylib=--no-merge-data-segments");
    }
}
