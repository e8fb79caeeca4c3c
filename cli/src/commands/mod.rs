//! The subcommands, each in the module named for what it does; [`run`]
//! opens the store and sends a parsed command line to its subcommand.

mod changes;
mod maintenance;
mod passwd;
mod records;
mod serve;
mod transfer;

use rosterdb::{Store, View};

use crate::args::{Cli, Command};
use crate::exit::CliError;
use crate::open::{self, Mode};
use crate::output::Out;

/// Runs the command line `cli`.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let Cli {
        file,
        format,
        tenant,
        quiet,
        command,
    } = cli;
    let tenant = tenant.as_deref();
    match command {
        Command::Info => {
            let mut out = Out::new(format, false, quiet);
            let store = open::open(&file, Mode::Existing)?.store;
            maintenance::info(&view(&store, tenant)?, &file, &mut out)
        }
        Command::Users { command } => {
            let op = records::Op::from(command);
            records::run(&file, tenant, records::Kind::User, op, format, quiet)
        }
        Command::Roles { command } => {
            let op = records::Op::from(command);
            records::run(&file, tenant, records::Kind::Role, op, format, quiet)
        }
        Command::Clients { command } => {
            let op = records::Op::from(command);
            records::run(&file, tenant, records::Kind::Client, op, format, quiet)
        }
        Command::Export { to } => {
            let mut out = Out::new(format, false, quiet);
            no_tenant(tenant, "export")?;
            let store = open::open(&file, Mode::Existing)?.store;
            transfer::export(&store, &to, quiet, &mut out)
        }
        Command::Import { from } => {
            let mut out = Out::new(format, false, quiet);
            no_tenant(tenant, "import")?;
            open::open(&file, Mode::Create)?
                .run(|store| transfer::import(store, &from, quiet, &mut out))
        }
        Command::Check => {
            let mut out = Out::new(format, false, quiet);
            no_tenant(tenant, "check")?;
            let store = open::open(&file, Mode::Existing)?.store;
            maintenance::check(&store, &mut out)
        }
        Command::Compact => {
            let mut out = Out::new(format, false, quiet);
            no_tenant(tenant, "compact")?;
            let store = open::open(&file, Mode::Existing)?.store;
            maintenance::compact(store, &file, &mut out)
        }
        Command::Changes(args) => {
            let mut out = Out::new(format, true, quiet);
            changes::run(&file, tenant, &args, &mut out)
        }
        Command::Passwd(args) => {
            let mut out = Out::new(format, false, quiet);
            let store = open::open(&file, Mode::Existing)?.store;
            passwd::run(&view(&store, tenant)?, &args, &mut out)
        }
        Command::Serve(args) => {
            no_tenant(tenant, "serve")?;
            let store = open::open(&file, Mode::Existing)?.store;
            serve::run(store, &args, quiet)
        }
    }
}

/// The view of the store the command works in: one tenant's, or all.
fn view<'a>(store: &'a Store, tenant: Option<&str>) -> Result<View<'a>, CliError> {
    Ok(View::of(store, tenant)?)
}

/// Refuses `--tenant` for a command that works on the whole file.
fn no_tenant(tenant: Option<&str>, command: &str) -> Result<(), CliError> {
    match tenant {
        Some(_) => Err(CliError::Usage(format!(
            "`{command}` works on the whole store file; it takes no --tenant"
        ))),
        None => Ok(()),
    }
}
