//! `passwd`: sets a user's password, read without echo; it is never printed.

use rosterdb::View;

use crate::args::PasswdArgs;
use crate::commands::records::{self, resolve, to_json};
use crate::exit::CliError;
use crate::input;
use crate::output::Out;

/// Reads the new password and sets it (an admin write: version + 1);
/// prints the user's document, which never holds a password or hash.
pub fn run(view: &View<'_>, args: &PasswdArgs, out: &mut Out) -> Result<(), CliError> {
    let key = records::user_key(&args.user);
    // The user first, so a typo costs no typing of a password.
    let id = resolve(view, &key)?;
    view.users().get(id)?;
    let password = input::password(args.password_stdin)?;
    let user = view.users().set_password(id, &password)?;
    out.doc(&to_json(&user)?)
}
