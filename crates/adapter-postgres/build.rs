//! Rebuilds the crate when `migrations/` changes: `embed_migrations!` reads the directory
//! at compile time, and cargo would not notice a new migration on its own.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
