//! Reading what a command takes besides its arguments: JSON documents
//! (given, from stdin or from a file) and passwords (from the terminal
//! without echo, or from stdin).

use std::io::{BufRead, Read};
use std::path::PathBuf;

use rosterdb::Secret;
use serde_json::Value;

use crate::exit::CliError;

/// The most a JSON document given on stdin or in a file may hold: far
/// more than any document or patch the store accepts (1 MiB once patched),
/// so `@/dev/zero` or a wrong file is an error, not all of memory.
const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

/// The most `passwd --password-stdin` reads looking for the end of the
/// line (a password is at most 1024 characters).
const MAX_PASSWORD_LINE_BYTES: u64 = 64 << 10;

/// The JSON that `arg` gives: its text, stdin's for `-`, or the file's
/// for `@PATH` (at most [`MAX_DOCUMENT_BYTES`]). Input that is not JSON is
/// `InvalidJson` naming where it is wrong (line and column), never quoting it.
pub fn json(arg: &str) -> Result<Value, CliError> {
    let (text, what) = if arg == "-" {
        let text = read_limited(std::io::stdin().lock())?;
        (text, "stdin".to_owned())
    } else if let Some(path) = arg.strip_prefix('@') {
        let path = PathBuf::from(path);
        let file_error = |error| CliError::File {
            path: path.clone(),
            error,
        };
        let file = std::fs::File::open(&path).map_err(file_error)?;
        let text = read_limited(file).map_err(|e| match e {
            CliError::Stdio(error) => file_error(error),
            other => other,
        })?;
        (text, path.display().to_string())
    } else {
        (Some(arg.to_owned()), "DOC".to_owned())
    };
    let Some(text) = text else {
        return Err(CliError::InvalidJson {
            what,
            message: format!("the input is larger than {MAX_DOCUMENT_BYTES} bytes"),
        });
    };
    serde_json::from_str(&text).map_err(|e| CliError::InvalidJson {
        what,
        message: e.to_string(),
    })
}

/// The text of `input`, or `None` when it holds more than
/// [`MAX_DOCUMENT_BYTES`].
fn read_limited(input: impl Read) -> Result<Option<String>, CliError> {
    let mut text = String::new();
    input
        .take(MAX_DOCUMENT_BYTES.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(CliError::Stdio)?;
    Ok((text.len() as u64 <= MAX_DOCUMENT_BYTES).then_some(text))
}

/// A new password: the first line of stdin when `from_stdin` (without
/// its line ending), else typed twice on the terminal without echo.
pub fn password(from_stdin: bool) -> Result<Secret, CliError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .take(MAX_PASSWORD_LINE_BYTES)
            .read_line(&mut line)?;
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
