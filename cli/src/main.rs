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
use clap::error::ErrorKind;

/// Large stores allocate many small pages; the core recommends mimalloc
/// (decision 0020), built without its transparent-huge-page advice
/// (decision 0030).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
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

/// Ends a command line clap refused: `--help` and `--version` print as
/// clap prints them; any other refusal is a `Usage` error told as every
/// error is (one line, or one JSON object with `--format json`), exit 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Nothing to add if the terminal is gone.
            let _ = e.print();
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::code::USAGE))
        }
        _ => {
            let args: Vec<String> = std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let error = exit::CliError::Usage(exit::usage_message(e, &args));
            exit::report(&error, args::json_requested(&args));
            ExitCode::from(error.exit_code())
        }
    }
}
