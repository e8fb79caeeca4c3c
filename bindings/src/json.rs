//! JSON text from Kotlin and Swift, read into the core's `serde_json` values.
//!
//! The reader is iterative, so no text, however deeply nested, can exhaust
//! the stack; it stops building values [`MAX_NESTING`] levels down. Text
//! that is not JSON is one error for the whole argument. A value JSON
//! cannot hold (docs/reference/errors.md) is instead a problem at its place
//! (`attributes.level`, `roles[0]`), as the Python binding reports it for a
//! `dict`: `NaN`, `Infinity` and `-Infinity` (as Gson and kotlinx write
//! them), a number beyond the range of a double (`1e400`), an integer
//! beyond 64 bits, a string or key holding lone surrogates (escaped, or
//! raw from a Kotlin string), and nesting deeper than [`MAX_NESTING`]. No
//! message quotes the value (it may be a password).
//!
//! Every valid JSON text reads as `serde_json::from_str` reads it: numbers
//! are parsed by serde_json, objects keep the last of duplicate keys.

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

/// One step of the path from a document to a value: a key of an object,
/// or an index of an array (or a JSON Pointer token that names one).
pub(crate) use rosterdb::PointerStep as Step;
pub(crate) use rosterdb::json_messages::NOT_UNICODE;
use rosterdb::json_messages::{FLOAT_RANGE, INTEGER_RANGE, KEY_NOT_UNICODE, NOT_FINITE};
use rosterdb::{PatchCode, ValidationCode};

use crate::{FieldError, RosterError, UnicodeString};

/// The deepest nesting of objects and arrays read (serde_json's own limit).
/// No valid document nests half as deep (decision 0001: 32 levels in
/// `attributes`), and the core names what is deeper than its limits.
pub(crate) const MAX_NESTING: usize = 128;

/// A value JSON cannot hold, at its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    /// Where it is.
    pub(crate) path: Vec<Step>,
    /// What kind of problem it is.
    pub(crate) code: ValidationCode,
    /// What is wrong with it.
    pub(crate) message: String,
    /// Whether it nests too deeply (reported on the top-level field, as
    /// the core reports nesting).
    pub(crate) too_deep: bool,
}

/// Text that is not JSON: what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    message: &'static str,
    /// From 1.
    line: usize,
    /// In characters, from 1.
    column: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

/// The value read, with `null` in place of each problem.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) value: Value,
    pub(crate) problems: Vec<Problem>,
}

/// Reads JSON text (UTF-8, or WTF-8 from a Kotlin string with lone surrogates).
pub(crate) fn parse(text: &[u8]) -> Result<Parsed, SyntaxError> {
    Reader {
        text,
        pos: 0,
        path: Vec::new(),
        problems: Vec::new(),
    }
    .run()
}

/// An array or object being read.
enum Open {
    Array(Vec<Value>),
    /// The members so far, and the key of the member being read (`None`
    /// for a key that is not Unicode: the member is left out).
    Object(Map<String, Value>, Option<String>),
}

struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
    path: Vec<Step>,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn run(mut self) -> Result<Parsed, SyntaxError> {
        let mut stack: Vec<Open> = Vec::new();
        'value: loop {
            self.skip_whitespace();
            let mut value = match self.peek() {
                Some(b'{' | b'[') if stack.len() >= MAX_NESTING => {
                    self.skip_nested()?;
                    self.too_deep();
                    Value::Null
                }
                Some(b'{' | b'[') => match self.open(&mut stack)? {
                    Some(empty) => empty,
                    None => continue 'value,
                },
                Some(b'"') => match self.string()? {
                    Some(text) => Value::String(text),
                    None => self.problem(ValidationCode::StringUnicode, NOT_UNICODE),
                },
                Some(b't') => self.literal("true", Value::Bool(true))?,
                Some(b'f') => self.literal("false", Value::Bool(false))?,
                Some(b'n') => self.literal("null", Value::Null)?,
                Some(b'N') => {
                    self.literal("NaN", Value::Null)?;
                    self.problem(ValidationCode::FiniteNumber, NOT_FINITE)
                }
                Some(b'I') => {
                    self.literal("Infinity", Value::Null)?;
                    self.problem(ValidationCode::FiniteNumber, NOT_FINITE)
                }
                Some(b'-') if self.rest().get(1) == Some(&b'I') => {
                    self.literal("-Infinity", Value::Null)?;
                    self.problem(ValidationCode::FiniteNumber, NOT_FINITE)
                }
                Some(b'-' | b'0'..=b'9') => self.number()?,
                _ => return Err(self.error("expected a value")),
            };
            // Put the value into its array or object, closing those that end.
            loop {
                self.skip_whitespace();
                match stack.last_mut() {
                    None => {
                        if self.pos < self.text.len() {
                            return Err(self.error("trailing characters after the value"));
                        }
                        return Ok(Parsed {
                            value,
                            problems: self.problems,
                        });
                    }
                    Some(Open::Array(items)) => {
                        items.push(value);
                        if self.eat(b',') {
                            let next = items.len().to_string();
                            if let Some(step) = self.path.last_mut() {
                                *step = Step::Index(next);
                            }
                            continue 'value;
                        }
                        if !self.eat(b']') {
                            return Err(self.error("expected ',' or ']'"));
                        }
                        self.path.pop();
                    }
                    Some(Open::Object(members, key)) => {
                        if let Some(key) = key.take() {
                            members.insert(key, value);
                        }
                        self.path.pop();
                        if self.eat(b',') {
                            self.skip_whitespace();
                            *key = self.key()?;
                            continue 'value;
                        }
                        if !self.eat(b'}') {
                            return Err(self.error("expected ',' or '}'"));
                        }
                    }
                }
                value = match stack.pop() {
                    Some(Open::Array(items)) => Value::Array(items),
                    Some(Open::Object(members, _)) => Value::Object(members),
                    None => Value::Null,
                };
            }
        }
    }

    /// Reads the `{` or `[` at the current position: the empty object or
    /// array when it closes at once; otherwise `None`, with the container
    /// pushed onto `stack` to be filled (an object with its first key read,
    /// an array with the path at its first element).
    fn open(&mut self, stack: &mut Vec<Open>) -> Result<Option<Value>, SyntaxError> {
        let object = self.peek() == Some(b'{');
        self.advance(1);
        self.skip_whitespace();
        let (close, empty) = if object {
            (b'}', Value::Object(Map::new()))
        } else {
            (b']', Value::Array(Vec::new()))
        };
        if self.eat(close) {
            return Ok(Some(empty));
        }
        if object {
            let key = self.key()?;
            stack.push(Open::Object(Map::new(), key));
        } else {
            self.path.push(Step::Index("0".into()));
            stack.push(Open::Array(Vec::new()));
        }
        Ok(None)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    /// The text from the current position on.
    fn rest(&self) -> &[u8] {
        self.text.get(self.pos..).unwrap_or_default()
    }

    /// Moves `n` bytes on. (A position is at most a byte or two past the
    /// end of the text, far from overflowing.)
    fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n);
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.advance(1);
        }
        found
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.advance(1);
        }
    }

    /// The syntax error `message` at the current position.
    fn error(&self, message: &'static str) -> SyntaxError {
        let before = self.text.get(..self.pos).unwrap_or(self.text);
        let line = before.rsplit(|&b| b == b'\n').next().unwrap_or(before);
        SyntaxError {
            message,
            line: before
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                .saturating_add(1),
            // Characters, counted by the bytes that do not continue one.
            column: line
                .iter()
                .filter(|&&b| b & 0xC0 != 0x80)
                .count()
                .saturating_add(1),
        }
    }

    /// Records a problem at the current path; `null` stands in for the value.
    fn problem(&mut self, code: ValidationCode, message: &str) -> Value {
        self.problems.push(Problem {
            path: self.path.clone(),
            code,
            message: message.to_owned(),
            too_deep: false,
        });
        Value::Null
    }

    fn too_deep(&mut self) {
        self.problems.push(Problem {
            path: self.path.clone(),
            code: ValidationCode::TooDeep,
            message: format!(
                "may nest objects and arrays at most {} levels deep",
                rosterdb::MAX_ATTRIBUTES_DEPTH
            ),
            too_deep: true,
        });
    }

    fn literal(&mut self, word: &'static str, value: Value) -> Result<Value, SyntaxError> {
        if self.rest().starts_with(word.as_bytes()) {
            self.advance(word.len());
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    /// A member's key and the `:` after it; pushes its step. `None` for a
    /// key that is not Unicode (a problem at the object).
    fn key(&mut self) -> Result<Option<String>, SyntaxError> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a key (a string in double quotes)"));
        }
        let key = self.string()?;
        if key.is_none() {
            self.problem(ValidationCode::StringUnicode, KEY_NOT_UNICODE);
        }
        self.skip_whitespace();
        if !self.eat(b':') {
            return Err(self.error("expected ':' after a key"));
        }
        let step = key.clone().unwrap_or_else(|| "\u{FFFD}".into());
        self.path.push(Step::Key(step));
        Ok(key)
    }

    /// A string, from its opening quote; `None` when it is not Unicode
    /// (lone surrogates, escaped or raw).
    fn string(&mut self) -> Result<Option<String>, SyntaxError> {
        self.advance(1);
        let mut bytes = Vec::new();
        let mut unicode = true;
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.advance(1);
            }
            bytes.extend_from_slice(self.text.get(start..self.pos).unwrap_or_default());
            match self.peek() {
                None => return Err(self.error("the text ends inside a string")),
                Some(b'"') => {
                    self.advance(1);
                    break;
                }
                Some(b'\\') => {
                    self.advance(1);
                    let escaped = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.advance(1);
                            match self.unicode_escape()? {
                                Some(c) => {
                                    bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                                }
                                None => unicode = false,
                            }
                            continue;
                        }
                        _ => return Err(self.error("invalid escape in a string")),
                    };
                    self.advance(1);
                    bytes.extend_from_slice(escaped.encode_utf8(&mut [0; 4]).as_bytes());
                }
                Some(_) => {
                    return Err(self.error("a control character must be escaped in a string"));
                }
            }
        }
        match String::from_utf8(bytes) {
            Ok(text) if unicode => Ok(Some(text)),
            _ => Ok(None),
        }
    }

    /// The character of a `\u` escape (after the `u`), joining a surrogate
    /// pair; `None` for a lone surrogate.
    fn unicode_escape(&mut self) -> Result<Option<char>, SyntaxError> {
        let unit = self.hex4()?;
        match unit {
            0xD800..=0xDBFF => {
                if !self.rest().starts_with(b"\\u") {
                    return Ok(None);
                }
                let pair = self.pos;
                self.advance(2);
                let low = self.hex4()?;
                if (0xDC00..=0xDFFF).contains(&low) {
                    let (Ok(high), Ok(low)) = (u16::try_from(unit), u16::try_from(low)) else {
                        return Ok(None);
                    };
                    Ok(char::decode_utf16([high, low]).next().and_then(Result::ok))
                } else {
                    // Not a pair: the second escape is read on its own.
                    self.pos = pair;
                    Ok(None)
                }
            }
            0xDC00..=0xDFFF => Ok(None),
            _ => Ok(char::from_u32(unit)),
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self
            .rest()
            .get(..4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|d| u32::from_str_radix(d, 16).ok());
        match digits {
            Some(unit) => {
                self.advance(4);
                Ok(unit)
            }
            None => Err(self.error("invalid \\u escape (four hex digits expected)")),
        }
    }

    fn digits(&mut self) -> usize {
        let n = self
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        self.advance(n);
        n
    }

    /// A number, checked against JSON's grammar and read by serde_json.
    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.advance(1),
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut integer = true;
        if self.eat(b'.') {
            integer = false;
            if self.digits() == 0 {
                return Err(self.error("invalid number (digits expected after '.')"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integer = false;
            self.advance(1);
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number (digits expected in the exponent)"));
            }
        }
        let token = self.text.get(start..self.pos).unwrap_or_default();
        let token = std::str::from_utf8(token).unwrap_or_default();
        Ok(match serde_json::from_str::<Value>(token) {
            // `-0` is the double -0.0, as serde_json reads it.
            Ok(Value::Number(n))
                if integer
                    && !(n.is_i64() || n.is_u64())
                    && token.bytes().any(|b| matches!(b, b'1'..=b'9')) =>
            {
                self.problem(ValidationCode::NumberOutOfRange, INTEGER_RANGE)
            }
            Ok(value) => value,
            Err(_) if integer => self.problem(ValidationCode::NumberOutOfRange, INTEGER_RANGE),
            Err(_) => self.problem(ValidationCode::NumberOutOfRange, FLOAT_RANGE),
        })
    }

    /// Skips an array or object nested too deeply (from its opening
    /// bracket to its closing one), without reading it.
    fn skip_nested(&mut self) -> Result<(), SyntaxError> {
        let mut depth = 0_usize;
        while let Some(b) = self.peek() {
            self.advance(1);
            match b {
                b'{' | b'[' => depth = depth.saturating_add(1),
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(());
                    }
                }
                b'"' => {
                    while let Some(b) = self.peek() {
                        self.advance(1);
                        match b {
                            b'"' => break,
                            b'\\' => self.advance(1),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Err(self.error("the text ends inside an array or object"))
    }
}

/// A path as a field name, as the core names fields: `attributes.tags[2]`;
/// `""` for the document.
pub(crate) fn field_name(path: &[Step]) -> String {
    rosterdb::field_name(path.iter().map(|step| match step {
        Step::Key(key) => rosterdb::PathStep::Key(key),
        Step::Index(index) => rosterdb::PathStep::Index(index),
    }))
}

/// The field a problem is reported on: its path, or for nesting, the
/// top-level field.
fn problem_field(problem: &Problem) -> String {
    if problem.too_deep {
        field_name(problem.path.get(..1).unwrap_or(&problem.path))
    } else {
        field_name(&problem.path)
    }
}

/// The top-level field of a field name (`attributes` of `attributes.a[1]`).
fn top_level(field: &str) -> &str {
    field.split(['.', '[']).next().unwrap_or_default()
}

/// Each problem once, as `(field, code, message)`.
fn field_errors(
    problems: impl IntoIterator<Item = (String, ValidationCode, String)>,
) -> Vec<FieldError> {
    let mut seen = HashSet::new();
    problems
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .map(|(field, code, message)| FieldError::new(field, code, message))
        .collect()
}

/// Reads the JSON text of the argument `name` of an update (`partial` of
/// a merge, `doc` of a replace): text that is not JSON is a `Validation`
/// error on `""`, the whole document, naming the argument; values JSON
/// cannot hold are `Validation` errors at their places. Whether it is an
/// object, and what it holds, the core checks.
pub(crate) fn document(name: &str, text: &UnicodeString) -> Result<Value, RosterError> {
    let Parsed { value, problems } = parse(text.as_bytes()).map_err(|e| {
        let message = format!("{name} is not valid JSON ({e})");
        RosterError::invalid("", ValidationCode::JsonInvalid, message)
    })?;
    if problems.is_empty() {
        return Ok(value);
    }
    Err(RosterError::Validation {
        errors: field_errors(
            problems
                .iter()
                .map(|p| (problem_field(p), p.code, p.message.clone())),
        ),
    })
}

/// Reads the JSON text of a whole document for a `*_json` create and
/// hands it to the core's `parse`. Text that is not JSON is a `Validation`
/// error on `""`; values JSON cannot hold are listed with what the core
/// finds wrong with the other top-level fields, as it lists every failing
/// field.
pub(crate) fn new_document<T>(
    text: &UnicodeString,
    parse_doc: impl FnOnce(&Value) -> rosterdb::Result<T>,
) -> Result<T, RosterError> {
    let Parsed { value, problems } = parse(text.as_bytes()).map_err(|e| {
        let message = format!("the document is not valid JSON ({e})");
        RosterError::invalid("", ValidationCode::JsonInvalid, message)
    })?;
    if problems.is_empty() {
        return Ok(parse_doc(&value)?);
    }
    let problems: Vec<_> = problems
        .iter()
        .map(|p| (problem_field(p), p.code, p.message.clone()))
        .collect();
    let mut errors: Vec<(String, ValidationCode, String)> = match parse_doc(&value) {
        Err(rosterdb::Error::Validation { errors }) => errors
            .into_iter()
            .filter(|e| {
                !problems
                    .iter()
                    .any(|(field, _, _)| top_level(field) == top_level(&e.field))
            })
            .map(|e| (e.field, e.code, e.message))
            .collect(),
        _ => Vec::new(),
    };
    errors.extend(problems);
    Err(RosterError::Validation {
        errors: field_errors(errors),
    })
}

/// Reads a user's `attributes`: the JSON object, or what is wrong with it
/// as `(field, message)` pairs (`attributes`, `attributes.level`).
pub(crate) fn attributes(text: &UnicodeString) -> Result<Map<String, Value>, Vec<FieldError>> {
    let at = |code, message: String| vec![FieldError::new("attributes", code, message)];
    match parse(text.as_bytes()) {
        Err(e) => Err(at(
            ValidationCode::JsonInvalid,
            format!("is not valid JSON ({e})"),
        )),
        Ok(Parsed { problems, .. }) if !problems.is_empty() => {
            Err(field_errors(problems.iter().map(|p| {
                let mut path = vec![Step::Key("attributes".into())];
                if !p.too_deep {
                    path.extend(p.path.iter().cloned());
                }
                (field_name(&path), p.code, p.message.clone())
            })))
        }
        Ok(Parsed {
            value: Value::Object(map),
            ..
        }) => Ok(map),
        Ok(_) => Err(at(
            ValidationCode::ObjectType,
            "must be a JSON object".into(),
        )),
    }
}

/// Reads the JSON text of the `ops` of a patch. Text that is not JSON is
/// `InvalidPatch` at operation 0, as the core reports a patch that is not
/// an array of operations, naming the argument. A `value` JSON cannot hold
/// is `Validation` naming the field the operation's `path` points at
/// (`/attributes/level` → `attributes.level`, plus the place inside the
/// value; the field itself for nesting, as the core reports it); anything
/// else an operation holds that JSON cannot (in `op`, `path`, `from`, a
/// key, or a `value` without a usable `path`) makes it malformed:
/// `InvalidPatch` with its index. The first problem decides which.
pub(crate) fn patch_ops(text: &UnicodeString) -> Result<Value, RosterError> {
    let Parsed { value, problems } =
        parse(text.as_bytes()).map_err(|e| RosterError::InvalidPatch {
            op_index: 0,
            code: PatchCode::JsonInvalid.as_str().into(),
            reason: format!("ops is not valid JSON ({e})"),
        })?;
    let mut fields = Vec::new();
    for problem in &problems {
        let (index, inside) = match problem.path.split_first() {
            Some((Step::Index(i), inside)) => (i.parse::<u64>().unwrap_or(0), inside),
            _ => (0, &[][..]),
        };
        let target = match inside.split_first() {
            Some((Step::Key(key), within)) if key == "value" => usize::try_from(index)
                .ok()
                .and_then(|i| value.get(i))
                .and_then(|op| op.get("path"))
                .and_then(Value::as_str)
                .and_then(rosterdb::field_steps)
                .map(|mut steps| {
                    if problem.too_deep {
                        steps.truncate(1);
                    } else {
                        steps.extend(within.iter().cloned());
                    }
                    field_name(&steps)
                }),
            _ => None,
        };
        match target {
            Some(field) => fields.push((field, problem.code, problem.message.clone())),
            None if fields.is_empty() => {
                let what = match (problem.path.is_empty(), inside) {
                    // As the core words an operation nested too deeply.
                    _ if problem.too_deep => String::new(),
                    (true, _) => "ops ".to_owned(),
                    (false, []) => "an operation's ".to_owned(),
                    (false, inside) => format!("{} ", field_name(inside)),
                };
                let code = if problem.too_deep {
                    PatchCode::TooDeep
                } else {
                    PatchCode::InvalidOperation
                };
                return Err(RosterError::InvalidPatch {
                    op_index: index,
                    code: code.as_str().into(),
                    reason: format!("{what}{}", problem.message),
                });
            }
            None => break,
        }
    }
    if fields.is_empty() {
        Ok(value)
    } else {
        Err(RosterError::Validation {
            errors: field_errors(fields),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<(Value, Vec<(String, String)>), String> {
        parse(text.as_bytes())
            .map(|p| {
                let problems = p
                    .problems
                    .iter()
                    .map(|p| (problem_field(p), p.message.clone()))
                    .collect();
                (p.value, problems)
            })
            .map_err(|e| e.to_string())
    }

    fn nested_arrays(depth: usize) -> String {
        "[".repeat(depth) + &"]".repeat(depth)
    }

    /// WTF-8 bytes, as the generated Kotlin sends a string with lone surrogates.
    fn wtf8(units: &[u16]) -> Vec<u8> {
        char::decode_utf16(units.iter().copied())
            .flat_map(|c| match c {
                Ok(c) => c.to_string().into_bytes(),
                Err(e) => {
                    let u = u32::from(e.unpaired_surrogate());
                    vec![
                        0xE0 | (u >> 12) as u8,
                        0x80 | ((u >> 6) & 0x3F) as u8,
                        0x80 | (u & 0x3F) as u8,
                    ]
                }
            })
            .collect()
    }

    #[test]
    fn valid_json_reads_as_serde_json_reads_it() {
        let samples = [
            "null",
            " true ",
            "false",
            "0",
            "-0",
            "-0.0",
            "1.5e3",
            "1E-400",
            "18446744073709551615",
            "-9223372036854775808",
            "123456789012345678.5",
            "\"\"",
            r#""a\"\\\/\b\f\n\r\t\u00e9\u0000\ud83d\ude00 é 😀""#,
            "[]",
            "{}",
            r#"{"a": [1, {"b": null}], "a": 2, "c": {"d": [[], {}]}}"#,
            "\t[ 1 ,\r\n2 ]\n",
        ];
        for text in samples {
            let expected: Value = serde_json::from_str(text).unwrap();
            let (value, problems) = read(text).unwrap();
            assert_eq!(value, expected, "{text}");
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                serde_json::to_string(&expected).unwrap()
            );
            assert!(problems.is_empty(), "{text}: {problems:?}");
        }
    }

    /// Compares the reader with serde_json on many texts, valid and
    /// damaged: whatever serde_json reads, the reader reads the same (but
    /// for integers beyond 64 bits, a problem here), and whatever the
    /// reader reads without a problem, serde_json reads the same.
    #[test]
    fn random_texts_read_as_serde_json_reads_them() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let atoms = [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1",
            "-1.5e-3",
            "1E+2",
            "123456789012345678901",
            "1e400",
            "NaN",
            "\"\"",
            "\"a\\\"b\"",
            "\"\\u00e9\\ud83d\\ude00\"",
            "\"\\ud800\"",
            "\"é\"",
        ];
        fn value(next: &mut impl FnMut(usize) -> usize, atoms: &[&str], depth: usize) -> String {
            match if depth > 6 { 2 } else { next(3) } {
                0 => {
                    let n = next(4);
                    let parts: Vec<String> =
                        (0..n).map(|_| value(next, atoms, depth + 1)).collect();
                    format!("[{}]", parts.join(if next(2) == 0 { "," } else { " , " }))
                }
                1 => {
                    let n = next(4);
                    let parts: Vec<String> = (0..n)
                        .map(|i| format!("\"k{}\": {}", i % 2, value(next, atoms, depth + 1)))
                        .collect();
                    format!("{{{}}}", parts.join(", "))
                }
                _ => atoms[next(atoms.len())].to_owned(),
            }
        }
        for _ in 0..20_000 {
            // A random value, then perhaps one damaged byte.
            let text = value(&mut next, &atoms, 0);
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() && next(3) == 0 {
                let at = next(bytes.len());
                bytes[at] = b"[]{},:\"\\ 0-eE.n"[next(15)];
            }
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            let theirs = serde_json::from_str::<Value>(&text);
            match (parse(text.as_bytes()), theirs) {
                (Ok(ours), Ok(theirs)) if ours.problems.is_empty() => {
                    assert_eq!(ours.value, theirs, "{text}");
                }
                (Ok(ours), Ok(_)) => assert!(
                    ours.problems.iter().all(|p| p.message == INTEGER_RANGE),
                    "{text}: {:?}",
                    ours.problems
                ),
                (Ok(ours), Err(_)) => assert!(!ours.problems.is_empty(), "{text}"),
                (Err(_), Ok(_)) => panic!("serde_json reads {text:?}"),
                (Err(_), Err(_)) => {}
            }
        }
    }

    #[test]
    fn text_that_is_not_json_is_a_syntax_error() {
        for text in [
            "",
            " ",
            "{",
            "[1,]",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\": 1,}",
            "{1: 2}",
            "{\"a\": }",
            "01",
            "1.",
            ".5",
            "1e",
            "+1",
            "- 1",
            "tru",
            "nul",
            "nan",
            "inf",
            "-inf",
            "\"abc",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\u{1}b\"",
            "[1] x",
            "{} {}",
            "'a'",
        ] {
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text:?}");
            assert!(read(text).is_err(), "{text:?} is not JSON");
        }
        assert_eq!(
            read("{\"a\":\n  [1,, 2]}").unwrap_err(),
            "expected a value at line 2 column 6"
        );
        assert_eq!(
            read("\"é\" x").unwrap_err(),
            "trailing characters after the value at line 1 column 5"
        );
    }

    #[test]
    fn values_json_cannot_hold_are_problems_at_their_place() {
        let (value, problems) = read(
            r#"{"a": NaN, "b": [1, Infinity, -Infinity], "c": {"d": 1e400, "e": -1e999},
                "f": 18446744073709551616, "g": -9223372036854775809, "h": "\ud800",
                "i": "\udc00\ud800", "j": "\ud800x", "\udfff": 1, "k": 1, "l": 100000000000000000000.0}"#,
        )
        .unwrap();
        let fields: Vec<(&str, &str)> = problems
            .iter()
            .map(|(f, m)| (f.as_str(), m.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("a", NOT_FINITE),
                ("b[1]", NOT_FINITE),
                ("b[2]", NOT_FINITE),
                ("c.d", FLOAT_RANGE),
                ("c.e", FLOAT_RANGE),
                ("f", INTEGER_RANGE),
                ("g", INTEGER_RANGE),
                ("h", NOT_UNICODE),
                ("i", NOT_UNICODE),
                ("j", NOT_UNICODE),
                ("", KEY_NOT_UNICODE),
            ]
        );
        assert_eq!(value["a"], Value::Null);
        assert_eq!(value["b"], serde_json::json!([1, null, null]));
        assert_eq!(value["k"], 1);
        assert_eq!(value["l"], serde_json::json!(1e20));
        assert_eq!(
            value.as_object().unwrap().len(),
            10,
            "the bad key is left out"
        );
    }

    #[test]
    fn raw_lone_surrogates_in_strings_are_problems_elsewhere_syntax_errors() {
        let mut text = br#"{"a": "x"#.to_vec();
        text.extend(wtf8(&[0xD800]));
        text.extend(br#"", "b": 1}"#);
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.problems.len(), 1);
        assert_eq!(problem_field(&parsed.problems[0]), "a");
        assert_eq!(parsed.value["b"], 1);
        let mut text = br#"{"a": "#.to_vec();
        text.extend(wtf8(&[0xDC00]));
        text.extend(b"}");
        assert!(parse(&text).is_err());
    }

    #[test]
    fn any_depth_is_read_without_recursion() {
        for depth in [MAX_NESTING - 1, MAX_NESTING, 100_000, 1_000_000] {
            let text = format!(
                r#"{{"attributes": {}"x"{}, "b": 1}}"#,
                "[{\"a\": ".repeat(depth / 2) + &"[".repeat(depth % 2),
                "]".repeat(depth % 2) + &"}]".repeat(depth / 2)
            );
            let (value, problems) = read(&text).unwrap();
            assert_eq!(value["b"], 1);
            if depth < MAX_NESTING {
                assert!(problems.is_empty(), "{depth}");
            } else {
                assert_eq!(problems.len(), 1, "{depth}");
                assert_eq!(problems[0].0, "attributes");
                assert!(problems[0].1.contains("at most 32 levels"), "{problems:?}");
            }
        }
        assert!(read(&"[".repeat(1_000_000)).is_err());
        assert!(read(&format!("[{}", "{\"a\":[".repeat(200))).is_err());
    }

    #[test]
    fn updates_name_the_argument_and_the_place() {
        for bad in ["", "[", "{\"op\": }", "[] []", "[NaN"] {
            match patch_ops(&bad.into()) {
                Err(RosterError::InvalidPatch {
                    op_index,
                    code,
                    reason,
                }) => {
                    assert_eq!((op_index, code.as_str()), (0, "json_invalid"));
                    assert!(reason.starts_with("ops is not valid JSON ("), "{reason}");
                }
                other => panic!("expected InvalidPatch for {bad:?}, got {other:?}"),
            }
            match document("partial", &bad.into()) {
                Err(RosterError::Validation { errors }) => {
                    assert_eq!(errors.len(), 1);
                    assert_eq!(errors[0].field, "");
                    assert_eq!(errors[0].code, "json_invalid");
                    assert!(errors[0].message.starts_with("partial is not valid JSON ("));
                }
                other => panic!("expected Validation for {bad:?}, got {other:?}"),
            }
        }
        // Valid JSON of any shape passes; the core checks the shape.
        assert_eq!(patch_ops(&"{}".into()), Ok(serde_json::json!({})));
        assert_eq!(document("doc", &"[1]".into()), Ok(serde_json::json!([1])));
        assert_eq!(
            document("doc", &r#"{"attributes": {"x": [NaN]}}"#.into()),
            Err(RosterError::invalid(
                "attributes.x[0]",
                ValidationCode::FiniteNumber,
                NOT_FINITE
            ))
        );

        let ops = |text: &str| patch_ops(&text.into());
        assert_eq!(
            ops(r#"[{"op": "test", "path": "/id", "value": 1},
                    {"op": "add", "value": {"a": [1e400]}, "path": "/attributes/x~1y"}]"#),
            Err(RosterError::invalid(
                "attributes.x/y.a[0]",
                ValidationCode::NumberOutOfRange,
                FLOAT_RANGE
            ))
        );
        assert_eq!(
            ops(r#"[{"op": "add", "path": "/roles/0", "value": 18446744073709551616}]"#),
            Err(RosterError::invalid(
                "roles[0]",
                ValidationCode::NumberOutOfRange,
                INTEGER_RANGE
            ))
        );
        let deep = format!(
            r#"[{{"op": "add", "path": "/attributes/x", "value": {}1{}}}]"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(matches!(
            ops(&deep),
            Err(RosterError::Validation { errors })
                if errors[0].field == "attributes" && errors[0].code == "too_deep"
        ));
        assert_eq!(
            ops(r#"[{}, {"op": "add", "value": NaN}]"#),
            Err(RosterError::InvalidPatch {
                op_index: 1,
                code: "invalid_operation".into(),
                reason: format!("value {NOT_FINITE}"),
            })
        );
        assert_eq!(
            ops(r#"[{"op": "add", "path": "/x\ud800", "value": 1}]"#),
            Err(RosterError::InvalidPatch {
                op_index: 0,
                code: "invalid_operation".into(),
                reason: format!("path {NOT_UNICODE}"),
            })
        );
        assert_eq!(
            ops(r#"[{"\ud800": 1}]"#),
            Err(RosterError::InvalidPatch {
                op_index: 0,
                code: "invalid_operation".into(),
                reason: format!("an operation's {KEY_NOT_UNICODE}"),
            })
        );
        assert_eq!(
            ops(&format!("[{{}}, {}]", nested_arrays(300))),
            Err(RosterError::InvalidPatch {
                op_index: 1,
                code: "too_deep".into(),
                reason: "may nest objects and arrays at most 32 levels deep".into(),
            })
        );
        assert_eq!(
            ops("NaN"),
            Err(RosterError::InvalidPatch {
                op_index: 0,
                code: "invalid_operation".into(),
                reason: format!("ops {NOT_FINITE}"),
            })
        );
    }
}
