//! Reading what a command takes besides its arguments: JSON documents
//! (given, from stdin or from a file) and passwords (from the terminal
//! without echo, or from stdin).

use std::io::{BufRead, Read};
use std::path::PathBuf;

use rosterdb::Secret;
use serde_json::Value;

use crate::exit::CliError;

/// The JSON that `arg` gives: its text, stdin's for `-`, or the file's
/// for `@PATH`. Input that is not JSON is `InvalidJson` naming where it
/// is wrong (line and column), never quoting it.
pub fn json(arg: &str) -> Result<Value, CliError> {
    let (text, what) = if arg == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        (text, "stdin".to_owned())
    } else if let Some(path) = arg.strip_prefix('@') {
        let path = PathBuf::from(path);
        let text = std::fs::read_to_string(&path).map_err(|error| CliError::File {
            path: path.clone(),
            error,
        })?;
        (text, path.display().to_string())
    } else {
        (arg.to_owned(), "DOC".to_owned())
    };
    serde_json::from_str(&text).map_err(|e| CliError::InvalidJson {
        what,
        message: e.to_string(),
    })
}

/// A new password: the first line of stdin when `from_stdin` (without
/// its line ending), else typed twice on the terminal without echo.
pub fn password(from_stdin: bool) -> Result<Secret, CliError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let line = line
            .strip_suffix('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .unwrap_or(&line);
        return Ok(Secret::new(line));
    }
    let first = rpassword::prompt_password("New password: ").map_err(no_terminal)?;
    let second = rpassword::prompt_password("Again: ").map_err(no_terminal)?;
    if first != second {
        return Err(CliError::Usage(
            "the two passwords typed differ; nothing was changed".into(),
        ));
    }
    Ok(Secret::new(first))
}

/// The error of a password prompt without a terminal.
fn no_terminal(e: std::io::Error) -> CliError {
    CliError::Usage(format!(
        "cannot read a password from the terminal ({e}); use --password-stdin"
    ))
}
