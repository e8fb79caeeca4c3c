//! JSON Pointers (RFC 6901) in JSON Patch operations (RFC 6902): errors that
//! say what is wrong with a `path` or `from`.
//!
//! [`check_syntax`] refuses a pointer before any operation runs: one that is
//! neither empty nor starts with `/`, or has a `~` not followed by `0` or
//! `1`. [`explain`] tells, for a pointer an operation could not use on a
//! document, why: a member that does not exist, an array index that is not a
//! number, has a leading zero, is `-` where only `add` may append, or is out
//! of range (with the range), or a step into a value that is not a container.

use serde_json::Value;

/// One step of a JSON Pointer into a document, unescaped (RFC 6901 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PointerStep {
    /// A member name.
    Key(String),
    /// A token that can name an array element: decimal digits, or `-`
    /// (the end of an array).
    Index(String),
}

/// A pointer token with its escapes undone: `~1` is `/`, `~0` is `~`
/// (RFC 6901 §4, in that order).
pub(crate) fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The steps of a JSON Pointer that names a place inside a document field,
/// e.g. `/attributes/tags/0` → `attributes`, `tags`, `0`; `None` when
/// `pointer` is not one (empty, no leading `/`) or its first token is not a
/// field name. Bindings use it to name a bad value inside a patch operation
/// the way the core names fields.
pub fn field_steps(pointer: &str) -> Option<Vec<PointerStep>> {
    let steps: Vec<PointerStep> = pointer
        .strip_prefix('/')?
        .split('/')
        .map(|token| {
            let token = unescape(token);
            if token == "-" || (!token.is_empty() && token.bytes().all(|b| b.is_ascii_digit())) {
                PointerStep::Index(token)
            } else {
                PointerStep::Key(token)
            }
        })
        .collect();
    matches!(steps.first(), Some(PointerStep::Key(_))).then_some(steps)
}

/// How an operation uses a pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The target of `add`, `move` or `copy`: its last token may name a new
    /// member, or an array position from 0 to the length (`-`: the end).
    Insert,
    /// The target of `remove`, `replace` or `test`, or the `from` of `move`
    /// and `copy`: it must name an existing value.
    Existing,
}

/// Checks the syntax of the pointer in the member `member` (`path` or
/// `from`): empty, or `/`-separated tokens where each `~` starts an escape,
/// `~0` (for `~`) or `~1` (for `/`).
pub(crate) fn check_syntax(member: &str, pointer: &str) -> Result<(), String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!(
            "{member} {} is not a JSON pointer: it must be empty or start with '/'",
            shown(pointer)
        ));
    }
    let chars: Vec<char> = pointer.chars().collect();
    for (at, pair) in chars.iter().enumerate() {
        if *pair != '~' {
            continue;
        }
        match chars.get(at.saturating_add(1)) {
            Some('0' | '1') => {}
            next => {
                let after = match next {
                    Some(c) => format!("by '{c}'"),
                    None => "by nothing (the pointer ends)".to_owned(),
                };
                return Err(format!(
                    "{member} {} has a bad escape at character {at}: '~' is followed {after}; \
                     in a JSON pointer '~' must be followed by 0 or 1 (~0 stands for '~', \
                     ~1 for '/', RFC 6901)",
                    shown(pointer)
                ));
            }
        }
    }
    Ok(())
}

/// Why `pointer` (syntax already checked, not empty) cannot be used on
/// `doc` in the given role, or `None` when nothing is wrong with it there.
pub(crate) fn explain(doc: &Value, pointer: &str, role: Role) -> Option<String> {
    let raw: Vec<&str> = pointer.strip_prefix('/')?.split('/').collect();
    let mut node = doc;
    let mut at = String::new();
    for (i, token) in raw.iter().enumerate() {
        let last = i.saturating_add(1) == raw.len();
        let key = unescape(token);
        let here = if at.is_empty() {
            "the document".to_owned()
        } else {
            at.clone()
        };
        match node {
            Value::Object(map) => match map.get(&key) {
                Some(next) => node = next,
                None if last && role == Role::Insert => return None,
                None => {
                    return Some(format!(
                        "{at}/{token} does not exist{}",
                        if last {
                            String::new()
                        } else {
                            format!(" (so {} cannot be reached)", shown(pointer))
                        }
                    ));
                }
            },
            Value::Array(items) => {
                let insert = last && role == Role::Insert;
                let index = match array_index(token) {
                    Ok(Some(index)) => index,
                    Ok(None) if insert => return None,
                    Ok(None) => {
                        return Some(format!(
                            "{here} is an array and '-' names the position after its last \
                             element: only add (and the target of move and copy) can use it, \
                             as the last token"
                        ));
                    }
                    Err(why) => {
                        return Some(format!(
                            "{here} is an array and {} is not an array index: {why}",
                            shown(token)
                        ));
                    }
                };
                let len = items.len();
                let fits = if insert { index <= len } else { index < len };
                if !fits {
                    let range = match (insert, len) {
                        (true, _) => format!("0 to {len}, or - to append"),
                        (false, 0) => "none: it is empty".to_owned(),
                        (false, _) => format!("0 to {}", len.saturating_sub(1)),
                    };
                    return Some(format!(
                        "array index {index} is out of range: {here} has {len} element{} \
                         (indexes {range})",
                        if len == 1 { "" } else { "s" }
                    ));
                }
                match items.get(index) {
                    Some(next) => node = next,
                    None => return None,
                }
            }
            scalar => {
                return Some(format!(
                    "{here} is {}, not an object or an array, so it has no member {}",
                    kind(scalar),
                    shown(token)
                ));
            }
        }
        at.push('/');
        at.push_str(token);
    }
    None
}

/// An array index token: `Ok(None)` for `-`, else a decimal number without
/// leading zeros (RFC 6901 §4).
fn array_index(token: &str) -> Result<Option<usize>, String> {
    if token == "-" {
        return Ok(None);
    }
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return Err("an index is a whole number from 0 (or '-' for the end)".to_owned());
    }
    if token.len() > 1 && token.starts_with('0') {
        let digits = match token.trim_start_matches('0') {
            "" => "0",
            rest => rest,
        };
        return Err(format!("an index has no leading zeros (write {digits})"));
    }
    token
        .parse::<usize>()
        .map(Some)
        .map_err(|_| format!("it is out of range (too large): at most {}", usize::MAX))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A pointer or token as messages show it: quoted, cut when long.
fn shown(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() > MAX {
        format!("\"{}…\"", text.chars().take(MAX).collect::<String>())
    } else {
        format!("\"{text}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_steps_unescape_and_tell_keys_from_indexes() {
        let key = |k: &str| PointerStep::Key(k.to_owned());
        let index = |i: &str| PointerStep::Index(i.to_owned());
        assert_eq!(
            field_steps("/attributes/a~1b~0c/0/-"),
            Some(vec![
                key("attributes"),
                key("a/b~c"),
                index("0"),
                index("-")
            ])
        );
        assert_eq!(field_steps("/roles"), Some(vec![key("roles")]));
        assert_eq!(field_steps("/0/x"), None, "an index cannot name a field");
        assert_eq!(field_steps(""), None);
        assert_eq!(field_steps("roles"), None);
        assert_eq!(unescape("~01"), "~1", "~0 is undone last (RFC 6901 §4)");
    }

    #[test]
    fn syntax() {
        assert_eq!(check_syntax("path", ""), Ok(()));
        assert_eq!(check_syntax("path", "/a~0b/c~1d/~01"), Ok(()));
        let err = check_syntax("path", "/attributes/~2").unwrap_err();
        assert!(
            err.contains("bad escape at character 12: '~' is followed by '2'"),
            "{err}"
        );
        let err = check_syntax("from", "/a~").unwrap_err();
        assert!(err.starts_with("from \"/a~\" has a bad escape"), "{err}");
        assert!(err.contains("followed by nothing"), "{err}");
        let err = check_syntax("path", "a/b").unwrap_err();
        assert!(err.contains("must be empty or start with '/'"), "{err}");
    }

    #[test]
    fn explains_each_problem() {
        let doc = json!({"roles": [1, 2, 3], "empty": [], "attributes": {"a": {"b": 1}, "s": "x"}});
        let cases: &[(&str, Role, &str)] = &[
            ("/nope", Role::Existing, "/nope does not exist"),
            (
                "/attributes/x/y",
                Role::Existing,
                "/attributes/x does not exist",
            ),
            (
                "/roles/3",
                Role::Existing,
                "array index 3 is out of range: /roles has 3 elements (indexes 0 to 2)",
            ),
            ("/roles/4", Role::Insert, "(indexes 0 to 3, or - to append)"),
            (
                "/empty/0",
                Role::Existing,
                "/empty has 0 elements (indexes none: it is empty)",
            ),
            (
                "/roles/01",
                Role::Existing,
                "\"01\" is not an array index: an index has no leading zeros (write 1)",
            ),
            ("/roles/00", Role::Insert, "no leading zeros (write 0)"),
            ("/roles/x", Role::Insert, "\"x\" is not an array index"),
            ("/roles/-1", Role::Existing, "\"-1\" is not an array index"),
            (
                "/roles/-",
                Role::Existing,
                "'-' names the position after its last element",
            ),
            ("/roles/-/x", Role::Insert, "'-' names the position"),
            (
                "/roles/99999999999999999999999",
                Role::Existing,
                "out of range (too large)",
            ),
            (
                "/attributes/s/t",
                Role::Insert,
                "/attributes/s is a string, not an object or an array, so it has no member \"t\"",
            ),
            (
                "/attributes/a/b/c",
                Role::Existing,
                "/attributes/a/b is a number",
            ),
        ];
        for (pointer, role, message) in cases {
            let got = explain(&doc, pointer, *role)
                .unwrap_or_else(|| panic!("{pointer}: no problem found"));
            assert!(
                got.contains(message),
                "{pointer}: {got:?} lacks {message:?}"
            );
        }
        for (pointer, role) in [
            ("/roles/3", Role::Insert),
            ("/roles/-", Role::Insert),
            ("/roles/0", Role::Existing),
            ("/attributes/new", Role::Insert),
            ("/attributes/a/b", Role::Existing),
        ] {
            assert_eq!(explain(&doc, pointer, role), None, "{pointer}");
        }
    }
}
