//! The `livedesk` binary: parse the command line and dispatch. No logic.

use clap::Parser;

/// Large blocks in mappings of their own (see `livedesk::alloc`).
#[global_allocator]
static GLOBAL: livedesk::alloc::MappedLarge = livedesk::alloc::MappedLarge;

fn main() -> std::process::ExitCode {
    livedesk::cli::run(livedesk::cli::Cli::parse())
}
