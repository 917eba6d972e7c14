//! The workspace's binaries for the black-box suites: the API is the test package's own;
//! the CLI (`aura`) is built beside it by `cargo test --workspace`, and built here when
//! a suite runs alone. Included by `support` and, alone, by `readme.rs`.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The workspace's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The path of the workspace binary `name` (`aura-api` or `aura`).
pub fn binary(name: &str) -> PathBuf {
    let api = PathBuf::from(env!("CARGO_BIN_EXE_aura-api"));
    if name == "aura-api" {
        return api;
    }
    let path = api.with_file_name(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let package = match name {
            "aura" => "aura-cli",
            other => panic!("no package known for the binary {other}"),
        };
        let status = Command::new(cargo)
            .args(["build", "-p", package])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success(), "cargo build -p {package}");
    }
    path
}
