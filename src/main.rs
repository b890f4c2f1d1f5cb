//! The `livedesk` binary: parse the command line and dispatch. No logic.

use clap::Parser;

fn main() -> std::process::ExitCode {
    livedesk::cli::run(livedesk::cli::Cli::parse())
}
