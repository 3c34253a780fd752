//! The `sfsim` binary: a thin shell over the `sfsim-cli` library crate.

fn main() -> std::process::ExitCode {
    sfsim_cli::main()
}
