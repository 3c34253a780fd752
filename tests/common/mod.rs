//! What the CLI tests share: running the real binary from the repository root.

use std::process::{Command, Output};

/// Runs `sfsim` with `args` from the repository root.
pub fn sfsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfsim")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("binary runs")
}
