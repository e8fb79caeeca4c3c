//! SCIM filters (RFC 7644 §3.4.2.2) as rosterdb expressions (SPEC §3.2):
//! the operators and grammar are the same, so a filter is read token by
//! token and its attribute paths renamed to the user fields they map to;
//! the store then parses and checks it. `emails[value co "x"]` becomes
//! `(email co "x")`; `id eq "3"` compares the id as the number it is.

use super::discovery::USER_SCHEMA;
use super::error::ScimError;

/// The user field a SCIM attribute path (lowercased, without its schema
/// URN) filters and sorts on.
pub(crate) fn user_field(path: &str) -> Option<&'static str> {
    Some(match path {
        "id" => "id",
        "username" => "username",
        "name.givenname" => "firstName",
        "name.familyname" => "lastName",
        "nickname" => "nickname",
        "emails" | "emails.value" => "email",
        "phonenumbers" | "phonenumbers.value" => "telephoneNumber",
        "active" => "enabled",
        "externalid" => "externalIds.value",
        "meta.created" => "createdAt",
        "meta.lastmodified" => "updatedAt",
        _ => return None,
    })
}

/// The words of the grammar, kept as they are.
const WORDS: [&str; 16] = [
    "and", "or", "not", "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "true",
    "false", "null",
];

/// The user field of the attribute path `word` (inside `attr[…]` when
/// `parent` is given), or `invalidFilter`.
fn field_of(word: &str, parent: Option<&str>) -> Result<&'static str, ScimError> {
    let bare = word
        .strip_prefix(USER_SCHEMA)
        .and_then(|w| w.strip_prefix(':'))
        .unwrap_or(word)
        .to_ascii_lowercase();
    let path = match parent {
        Some(parent) => format!("{parent}.{bare}"),
        None => bare,
    };
    user_field(&path).ok_or_else(|| ScimError::invalid_filter(format!("cannot filter on {word:?}")))
}

/// The rosterdb expression of a SCIM filter over users.
pub(crate) fn to_expression(filter: &str) -> Result<String, ScimError> {
    let mut out: Vec<String> = Vec::new();
    let mut chars = filter.char_indices().peekable();
    let mut parent: Option<String> = None;
    // Whether the last attribute was `id`, whose quoted values are numbers.
    let mut after_id = false;
    while let Some(&(at, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                out.push(c.to_string());
                chars.next();
            }
            '[' => {
                let Some(last) = out.pop() else {
                    return Err(ScimError::invalid_filter(format!(
                        "'[' at {at} follows no attribute"
                    )));
                };
                parent = Some(last_word(&last));
                out.push("(".into());
                chars.next();
            }
            ']' => {
                if parent.take().is_none() {
                    return Err(ScimError::invalid_filter(format!(
                        "']' at {at} closes nothing"
                    )));
                }
                out.push(")".into());
                chars.next();
            }
            '"' => {
                let mut text = String::from('"');
                chars.next();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    text.push(c);
                    if c == '\\' {
                        if let Some((_, escaped)) = chars.next() {
                            text.push(escaped);
                        }
                    } else if c == '"' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(ScimError::invalid_filter(format!(
                        "the string at {at} is not closed"
                    )));
                }
                let inner = text.get(1..text.len().saturating_sub(1)).unwrap_or("");
                if after_id && !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                    out.push(inner.to_owned());
                } else {
                    out.push(text);
                }
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                let lower = word.to_ascii_lowercase();
                let is_number = word.starts_with(|c: char| c.is_ascii_digit() || c == '-');
                if WORDS.contains(&lower.as_str()) || is_number {
                    out.push(word);
                } else if chars.peek().is_some_and(|&(_, c)| c == '[') {
                    // The parent of a value filter: resolved at '['.
                    out.push(format!("\u{0}{lower}"));
                } else {
                    let field = field_of(&word, parent.as_deref())?;
                    after_id = field == "id";
                    out.push(field.to_owned());
                    continue;
                }
                after_id =
                    after_id && WORDS.contains(&lower.as_str()) && lower != "and" && lower != "or";
            }
        }
    }
    if parent.is_some() {
        return Err(ScimError::invalid_filter("a '[' is not closed"));
    }
    if out.iter().any(|t| t.starts_with('\u{0}')) {
        return Err(ScimError::invalid_filter(
            "a value filter's attribute is malformed",
        ));
    }
    Ok(out.join(" "))
}

/// The attribute a `[` follows, lowercased and without its schema URN.
fn last_word(token: &str) -> String {
    let word = token.trim_start_matches('\u{0}');
    word.strip_prefix(&USER_SCHEMA.to_ascii_lowercase())
        .and_then(|w| w.strip_prefix(':'))
        .unwrap_or(word)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_paths_and_keeps_the_rest() {
        let cases = [
            ("userName eq \"bjensen\"", "username eq \"bjensen\""),
            (
                "name.familyName co \"O'Malley\" and active eq true",
                "lastName co \"O'Malley\" and enabled eq true",
            ),
            (
                "emails[value ew \"@example.com\"]",
                "( email ew \"@example.com\" )",
            ),
            (
                "not (nickName pr) or id eq \"12\"",
                "not ( nickname pr ) or id eq 12",
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"",
                "username sw \"J\"",
            ),
            (
                "meta.lastModified gt \"2011-05-13T04:42:34Z\"",
                "updatedAt gt \"2011-05-13T04:42:34Z\"",
            ),
        ];
        for (scim, expected) in cases {
            assert_eq!(to_expression(scim).unwrap(), expected, "{scim}");
        }
    }

    #[test]
    fn refuses_unknown_attributes_and_broken_text() {
        for bad in [
            "title eq \"x\"",
            "userName eq \"open",
            "emails[value eq \"x\"",
            "]",
            "[x eq 1]",
        ] {
            assert!(to_expression(bad).is_err(), "{bad}");
        }
    }
}
