//! `rosterdb`: a terminal to a rosterdb store file (docs/reference/cli.md), as
//! `sqlite3` is to a SQLite file. See `rosterdb --help` and the crate's
//! README for the subcommands, output formats and exit codes.

mod args;
mod commands;
mod exit;
mod input;
mod open;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

/// Large stores allocate many small pages; the core recommends mimalloc
/// (decision 0020).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let json_errors = cli.format == Some(args::Format::Json);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(exit::CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(error) => {
            exit::report(&error, json_errors);
            ExitCode::from(error.exit_code())
        }
    }
}
