//! `changes`: the change log after a sequence number, once or following
//! it (each poll opens the file, so other processes write in between).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rosterdb::{Change, MAX_CHANGES_PER_CALL, View};

use crate::args::{ChangesArgs, Format};
use crate::commands::records::to_json;
use crate::exit::CliError;
use crate::open::{self, Mode};
use crate::output::Out;

/// The columns of the table of changes.
const COLUMNS: [&str; 6] = ["seq", "at", "entity", "id", "op", "version"];

/// Prints the entries after `--since`; with `--follow`, then polls for
/// more every `--interval` ms until Ctrl-C, waiting while another
/// process holds the file.
pub fn run(
    file: &Path,
    tenant: Option<&str>,
    args: &ChangesArgs,
    out: &mut Out,
) -> Result<(), CliError> {
    let stop = Arc::new(AtomicBool::new(false));
    if args.follow {
        let flag = Arc::clone(&stop);
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
            .map_err(|e| CliError::Usage(format!("cannot catch Ctrl-C: {e}")))?;
    }
    let mut after = args.since;
    let mut header = true;
    let mut gathered = Vec::new();
    loop {
        let polled = poll(file, tenant, after, args.follow);
        match polled {
            Ok(changes) => {
                if let Some(last) = changes.last() {
                    after = last.seq;
                }
                if out.format() == Format::Json && !args.follow {
                    gathered.extend(changes);
                } else if !changes.is_empty() {
                    print(out, &changes, header)?;
                    header = false;
                }
            }
            // Another process writes now: the next poll tries again.
            Err(CliError::Store(rosterdb::Error::Locked)) if args.follow => {}
            Err(e) => return Err(e),
        }
        if !args.follow {
            break;
        }
        let until = Instant::now()
            .checked_add(Duration::from_millis(args.interval))
            .unwrap_or_else(Instant::now);
        while Instant::now() < until {
            if stop.load(Ordering::SeqCst) {
                return out.flush();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if stop.load(Ordering::SeqCst) {
            return out.flush();
        }
    }
    if out.format() == Format::Json && !args.follow {
        let items = gathered
            .iter()
            .map(to_json)
            .collect::<Result<Vec<_>, _>>()?;
        out.page(&items, None, None, None)?;
    }
    out.flush()
}

/// Every entry after `after`, read from the file opened for this poll.
fn poll(
    file: &Path,
    tenant: Option<&str>,
    mut after: u64,
    follow: bool,
) -> Result<Vec<Change>, CliError> {
    let store = match open::open(file, Mode::Existing) {
        Err(CliError::NoStore(_)) if follow => return Ok(Vec::new()),
        other => other?.store,
    };
    let view = View::of(&store, tenant)?;
    let mut all = Vec::new();
    loop {
        let batch = view.changes(after, MAX_CHANGES_PER_CALL)?;
        let Some(last) = batch.last() else {
            return Ok(all);
        };
        after = last.seq;
        all.extend(batch);
    }
}

/// Prints entries as JSON Lines or table rows (a JSON follow prints
/// JSON Lines: the stream has no end to close an array at).
fn print(out: &mut Out, changes: &[Change], header: bool) -> Result<(), CliError> {
    let items = changes.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
    out.items(&items, Some(&COLUMNS), header)?;
    out.flush()
}
