//! The tokens of the expression form (docs/reference/queries.md, Expression form): names and dotted
//! paths, keywords, operators, parentheses, commas, quoted strings and JSON numbers.
//!
//! Every position is a 0-based character index (Unicode scalar values, not
//! bytes). A name holds letters, digits and `_` (any script); the first name
//! of a path starts with a letter or `_`, later ones may start with a digit
//! (`attributes.2fa`) and may also hold `-` after their first character,
//! as SCIM's attribute names do (RFC 7643 §2.1): `attributes.cost-center`.
//! The first name holds no `-`, so an operator word before a negative
//! number stays one (`x gt-1`). Keywords are recognised case-insensitively,
//! and only as a whole one-name word: `attributes.in` is a path.

use serde_json::Number;

use super::ast::{CompareOp, Path};
use super::number;
use crate::{Error, QueryCode, Result};

/// The keywords that are not comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Or,
    Not,
    In,
    Pr,
    Is,
    Null,
    True,
    False,
}

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    /// A name or a dotted path that is not a keyword.
    Path(Vec<String>),
    /// A keyword other than an operator.
    Keyword(Keyword),
    /// A comparison operator, symbolic (`<=`) or a word (`le`, `like`).
    Op(CompareOp),
    /// A quoted string, unescaped.
    Str(String),
    /// A JSON number.
    Num(Number),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// The end of the input.
    End,
}

/// A token and the character span it was read from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    /// What it is.
    pub(crate) kind: TokenKind,
    /// The character position of its first character.
    pub(crate) start: usize,
    /// The character position just after it.
    pub(crate) end: usize,
}

/// An `InvalidQuery` [`QueryCode::Syntax`] error at a character position,
/// naming no field.
pub(crate) fn syntax_error(position: usize, message: impl Into<String>) -> Error {
    Error::query(QueryCode::Syntax, message).at_position(position)
}

/// The same error, naming `field` (a parameter) as the one at fault.
pub(crate) fn in_field(err: Error, field: &str) -> Error {
    err.for_field(field)
}

/// Text quoted for a message, cut to 40 characters so errors stay short.
pub(crate) fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() > MAX {
        format!("'{}…'", text.chars().take(MAX).collect::<String>())
    } else {
        format!("'{text}'")
    }
}

/// Reads `text` as exactly one path (no spaces around it); positions start at `base`.
///
/// Keywords are plain names here: `in` is a path of one name.
pub(crate) fn path(text: &str, base: usize) -> Result<Path> {
    let mut lexer = Lexer::with_base(text, base);
    match lexer.peek(0) {
        None => return Err(syntax_error(base, "expected a field name, found nothing")),
        Some(c) if !is_name_start(c) => {
            return Err(syntax_error(
                base,
                format!(
                    "a field name starts with a letter or '_', not {}",
                    show_char(c)
                ),
            ));
        }
        Some(_) => {}
    }
    let segments = lexer.segments()?;
    if let Some(c) = lexer.peek(0) {
        return Err(syntax_error(
            lexer.at(lexer.pos),
            format!(
                "unexpected {} in a field name (names hold letters, digits and '_', joined by '.'; names after the first may hold '-')",
                show_char(c)
            ),
        ));
    }
    Ok(Path {
        segments,
        position: base,
    })
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A character a name after a path's first may hold after its own first:
/// a name character or `-` (SCIM's `nameChar`, RFC 7643 §2.1:
/// `attributes.cost-center`).
fn is_later_name_char(c: char) -> bool {
    is_name_char(c) || c == '-'
}

/// A character for a message: printable ones quoted, others as `U+XXXX`.
fn show_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("'{c}'")
    }
}

/// The keyword or word operator spelled by `word`, ignoring ASCII case.
fn keyword(word: &str) -> Option<TokenKind> {
    if word.len() > 5 {
        return None;
    }
    let kind = match word.to_ascii_lowercase().as_str() {
        "and" => TokenKind::Keyword(Keyword::And),
        "or" => TokenKind::Keyword(Keyword::Or),
        "not" => TokenKind::Keyword(Keyword::Not),
        "in" => TokenKind::Keyword(Keyword::In),
        "pr" => TokenKind::Keyword(Keyword::Pr),
        "is" => TokenKind::Keyword(Keyword::Is),
        "null" => TokenKind::Keyword(Keyword::Null),
        "true" => TokenKind::Keyword(Keyword::True),
        "false" => TokenKind::Keyword(Keyword::False),
        "like" => TokenKind::Op(CompareOp::Like),
        "eq" => TokenKind::Op(CompareOp::Eq),
        "ne" => TokenKind::Op(CompareOp::Ne),
        "gt" => TokenKind::Op(CompareOp::Gt),
        "ge" => TokenKind::Op(CompareOp::Ge),
        "lt" => TokenKind::Op(CompareOp::Lt),
        "le" => TokenKind::Op(CompareOp::Le),
        "co" => TokenKind::Op(CompareOp::Co),
        "sw" => TokenKind::Op(CompareOp::Sw),
        "ew" => TokenKind::Op(CompareOp::Ew),
        _ => return None,
    };
    Some(kind)
}

/// Splits the expression text into tokens, one at a time.
pub(crate) struct Lexer {
    chars: Vec<char>,
    /// The index of the next character to read.
    pos: usize,
    /// Added to every reported position (where the text sits in a larger one).
    base: usize,
}

impl Lexer {
    /// A lexer over `text`, reporting positions from 0.
    pub(crate) fn new(text: &str) -> Self {
        Lexer::with_base(text, 0)
    }

    /// A lexer over `text`, reporting positions from `base`.
    fn with_base(text: &str, base: usize) -> Self {
        Lexer {
            chars: text.chars().collect(),
            pos: 0,
            base,
        }
    }

    /// The source text of a token, as written.
    pub(crate) fn spelling(&self, token: &Token) -> String {
        self.text(
            token.start.saturating_sub(self.base),
            token.end.saturating_sub(self.base),
        )
    }

    /// Reads the next token; after the end, returns `End` again.
    pub(crate) fn next_token(&mut self) -> Result<Token> {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.advance(1);
        }
        let start = self.pos;
        let kind = match self.peek(0) {
            None => TokenKind::End,
            Some(c) => self.token_kind(c)?,
        };
        Ok(Token {
            kind,
            start: self.at(start),
            end: self.at(self.pos),
        })
    }

    fn token_kind(&mut self, c: char) -> Result<TokenKind> {
        let start = self.pos;
        let (kind, len) = match (c, self.peek(1)) {
            ('(', _) => (TokenKind::LParen, 1),
            (')', _) => (TokenKind::RParen, 1),
            (',', _) => (TokenKind::Comma, 1),
            ('=', _) => (TokenKind::Op(CompareOp::Eq), 1),
            ('!', Some('=')) | ('<', Some('>')) => (TokenKind::Op(CompareOp::Ne), 2),
            ('<', Some('=')) => (TokenKind::Op(CompareOp::Le), 2),
            ('<', _) => (TokenKind::Op(CompareOp::Lt), 1),
            ('>', Some('=')) => (TokenKind::Op(CompareOp::Ge), 2),
            ('>', _) => (TokenKind::Op(CompareOp::Gt), 1),
            ('\'', _) => return self.single_quoted(),
            ('"', _) => return self.double_quoted(),
            ('-' | '0'..='9', _) => return self.number(),
            (c, _) if is_name_start(c) => return self.word(),
            ('!', _) => {
                return Err(self.error(start, "unexpected '!' (the operator is '!=')"));
            }
            (c, _) => {
                return Err(self.error(start, format!("unexpected character {}", show_char(c))));
            }
        };
        self.advance(len);
        Ok(kind)
    }

    /// A name or dotted path, or a keyword when it is one name that spells one.
    fn word(&mut self) -> Result<TokenKind> {
        let segments = self.segments()?;
        if let [name] = segments.as_slice()
            && let Some(kind) = keyword(name)
        {
            return Ok(kind);
        }
        Ok(TokenKind::Path(segments))
    }

    /// `name ("." name)*`, starting at a character that may start a name.
    fn segments(&mut self) -> Result<Vec<String>> {
        let mut segments: Vec<String> = Vec::new();
        loop {
            let from = self.pos;
            // A name starts with a name character ('-' only inside a later one).
            if self.peek(0).is_some_and(is_name_char) {
                let inside = if segments.is_empty() {
                    is_name_char
                } else {
                    is_later_name_char
                };
                while self.peek(0).is_some_and(inside) {
                    self.advance(1);
                }
            }
            if self.pos == from {
                return Err(self.error(self.pos, "expected a name after '.'"));
            }
            segments.push(self.text(from, self.pos));
            if self.peek(0) != Some('.') {
                return Ok(segments);
            }
            self.advance(1);
        }
    }

    /// `'…'`: any characters, a quote written twice.
    fn single_quoted(&mut self) -> Result<TokenKind> {
        let start = self.pos;
        self.advance(1);
        let mut text = String::new();
        loop {
            match (self.peek(0), self.peek(1)) {
                (None, _) => return Err(self.error(start, "unterminated string")),
                (Some('\''), Some('\'')) => {
                    text.push('\'');
                    self.advance(2);
                }
                (Some('\''), _) => {
                    self.advance(1);
                    return Ok(TokenKind::Str(text));
                }
                (Some(c), _) => {
                    text.push(c);
                    self.advance(1);
                }
            }
        }
    }

    /// `"…"` with JSON escapes; raw control characters are not allowed.
    fn double_quoted(&mut self) -> Result<TokenKind> {
        let start = self.pos;
        self.advance(1);
        let mut text = String::new();
        loop {
            match self.peek(0) {
                None => return Err(self.error(start, "unterminated string")),
                Some('"') => {
                    self.advance(1);
                    return Ok(TokenKind::Str(text));
                }
                Some('\\') => text.push(self.escape(start)?),
                Some(c) if c < ' ' => {
                    return Err(self.error(
                        self.pos,
                        format!(
                            "control character {} in a string (write it as an escape such as \\n or \\u001f)",
                            show_char(c)
                        ),
                    ));
                }
                Some(c) => {
                    text.push(c);
                    self.advance(1);
                }
            }
        }
    }

    /// One JSON escape at the backslash under the cursor, in the string opened at `start`.
    fn escape(&mut self, start: usize) -> Result<char> {
        let at = self.pos;
        let c = match self.peek(1) {
            None => return Err(self.error(start, "unterminated string")),
            Some('u') => return self.unicode_escape(),
            Some('"') => '"',
            Some('\\') => '\\',
            Some('/') => '/',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some(other) => {
                let escape = if other.is_control() || other.is_whitespace() {
                    format!("'\\' followed by {}", show_char(other))
                } else {
                    format!("\\{other}")
                };
                return Err(self.error(
                    at,
                    format!(
                        "invalid escape {escape} in a string (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)"
                    ),
                ));
            }
        };
        self.advance(2);
        Ok(c)
    }

    /// `\uXXXX`, or a surrogate pair `\uD8xx\uDCxx`, at the cursor.
    fn unicode_escape(&mut self) -> Result<char> {
        let at = self.pos;
        let high = self.hex4(at)?;
        self.advance(6);
        let code = if (0xD800..0xDC00).contains(&high) {
            let low = match (self.peek(0), self.peek(1)) {
                (Some('\\'), Some('u')) => self.hex4(self.pos)?,
                _ => 0,
            };
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.error(at, format!("unpaired surrogate \\u{high:04x} in a string")));
            }
            self.advance(6);
            // Both halves were checked to be in their ranges just above.
            0x10000_u32
                .saturating_add(high.saturating_sub(0xD800) << 10)
                .saturating_add(low.saturating_sub(0xDC00))
        } else {
            high
        };
        char::from_u32(code)
            .ok_or_else(|| self.error(at, format!("unpaired surrogate \\u{code:04x} in a string")))
    }

    /// The four hex digits after the `\u` at `at`.
    fn hex4(&self, at: usize) -> Result<u32> {
        (2..6).try_fold(0, |code, i| {
            match self
                .char_at(at.saturating_add(i))
                .and_then(|c| c.to_digit(16))
            {
                Some(digit) => Ok((code << 4) | digit),
                None => Err(self.error(at, "invalid \\u escape: expected four hex digits")),
            }
        })
    }

    /// A number in JSON syntax: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    ///
    /// An integer is a `u64` (an `i64` when negative); one out of range is an
    /// error saying so, with the range. A fraction or exponent makes it an
    /// `f64`, which must be finite.
    fn number(&mut self) -> Result<TokenKind> {
        let start = self.pos;
        if self.peek(0) == Some('-') {
            self.advance(1);
        }
        if self.peek(0) == Some('0') {
            self.advance(1);
            if self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.error(start, "a number cannot start with 0 (write 7, not 07)"));
            }
        } else if self.digits() == 0 {
            // `cost-center`: a '-' glued to a name is no number.
            let glued = start
                .checked_sub(1)
                .and_then(|before| self.char_at(before))
                .is_some_and(is_name_char);
            if glued {
                return Err(self.error(
                    start,
                    "the first name of a field holds no '-' (names after it may: \
                     attributes.cost-center)",
                ));
            }
            return Err(self.error(self.pos, "expected a digit after '-'"));
        }
        let mut integer = true;
        if self.peek(0) == Some('.') {
            self.advance(1);
            integer = false;
            if self.digits() == 0 {
                return Err(self.error(self.pos, "expected a digit after the decimal point"));
            }
        }
        if matches!(self.peek(0), Some('e' | 'E')) {
            self.advance(1);
            integer = false;
            if matches!(self.peek(0), Some('+' | '-')) {
                self.advance(1);
            }
            if self.digits() == 0 {
                return Err(self.error(self.pos, "expected a digit in the exponent"));
            }
        }
        if let Some(c) = self.peek(0).filter(|&c| is_name_char(c) || c == '.') {
            return Err(self.error(
                self.pos,
                format!(
                    "unexpected {} after the number {}",
                    show_char(c),
                    quoted(&self.text(start, self.pos))
                ),
            ));
        }
        let text = self.text(start, self.pos);
        debug_assert_eq!(integer, !text.contains(['.', 'e', 'E']));
        number::json_number(&text)
            .map(TokenKind::Num)
            .map_err(|misfit| {
                Error::query(
                    QueryCode::NumberOutOfRange,
                    number::range_message(&text, misfit),
                )
                .at_position(self.at(start))
            })
    }

    /// Skips ASCII digits; returns how many.
    fn digits(&mut self) -> usize {
        let from = self.pos;
        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            self.advance(1);
        }
        self.pos.saturating_sub(from)
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.char_at(self.pos.saturating_add(ahead))
    }

    fn char_at(&self, index: usize) -> Option<char> {
        self.chars.get(index).copied()
    }

    /// The characters from `from` to `to` (indexes into this text).
    fn text(&self, from: usize, to: usize) -> String {
        self.chars
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    /// The reported position of index `index` of this text.
    fn at(&self, index: usize) -> usize {
        self.base.saturating_add(index)
    }

    /// Moves the cursor `n` characters on.
    fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n);
    }

    fn error(&self, index: usize, message: impl Into<String>) -> Error {
        syntax_error(self.at(index), message)
    }
}

/// Helpers for the front ends' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::fmt::Debug;

    use crate::{Error, Result};

    /// The (position, message) of the positioned `InvalidQuery` naming
    /// `field` that `result` must be; panics otherwise.
    pub(crate) fn positioned<T: Debug>(result: Result<T>, field: Option<&str>) -> (usize, String) {
        match result {
            Err(Error::InvalidQuery {
                message,
                position: Some(position),
                field: got,
                ..
            }) if got.as_deref() == field => (position, message),
            other => panic!("expected a positioned InvalidQuery on {field:?}, got {other:?}"),
        }
    }

    /// Asserts that `run` fails on each text at the position given, with a
    /// message containing the text given, naming `field`.
    pub(crate) fn assert_errors<T: Debug>(
        cases: &[(&str, usize, &str)],
        field: Option<&str>,
        run: impl Fn(&str) -> Result<T>,
    ) {
        for &(text, position, message) in cases {
            let (got_position, got_message) = positioned(run(text), field);
            assert_eq!(got_position, position, "{text:?}: {got_message}");
            assert!(
                got_message.contains(message),
                "{text:?}: {got_message:?} lacks {message:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{assert_errors, positioned};
    use super::*;

    /// Every token of `text` but the final `End`, as (kind, start).
    fn lex(text: &str) -> Result<Vec<(TokenKind, usize)>> {
        let mut lexer = Lexer::new(text);
        let mut tokens = Vec::new();
        loop {
            let token = lexer.next_token()?;
            if token.kind == TokenKind::End {
                assert_eq!(token.start, text.chars().count());
                return Ok(tokens);
            }
            tokens.push((token.kind, token.start));
        }
    }

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(text)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .into_iter()
            .map(|(kind, _)| kind)
            .collect()
    }

    fn one(text: &str) -> TokenKind {
        let mut all = kinds(text);
        assert_eq!(all.len(), 1, "{text:?} gives {all:?}");
        all.remove(0)
    }

    /// The (position, message) of the error lexing `text` gives.
    fn lex_error(text: &str) -> (usize, String) {
        positioned(lex(text), None)
    }

    fn path_kind(segments: &[&str]) -> TokenKind {
        TokenKind::Path(segments.iter().map(|s| s.to_string()).collect())
    }

    fn str_kind(text: &str) -> TokenKind {
        TokenKind::Str(text.to_owned())
    }

    fn num(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn punctuation_and_symbolic_operators() {
        use CompareOp::*;
        assert_eq!(
            kinds("( ) , = != <> < <= > >="),
            vec![
                TokenKind::LParen,
                TokenKind::RParen,
                TokenKind::Comma,
                TokenKind::Op(Eq),
                TokenKind::Op(Ne),
                TokenKind::Op(Ne),
                TokenKind::Op(Lt),
                TokenKind::Op(Le),
                TokenKind::Op(Gt),
                TokenKind::Op(Ge),
            ]
        );
        // No spaces needed between operators and operands.
        assert_eq!(
            kinds("a<=1"),
            vec![
                path_kind(&["a"]),
                TokenKind::Op(Le),
                TokenKind::Num(num("1"))
            ]
        );
    }

    #[test]
    fn keywords_and_word_operators_ignore_case() {
        use CompareOp::*;
        let cases = [
            ("and", TokenKind::Keyword(Keyword::And)),
            ("AND", TokenKind::Keyword(Keyword::And)),
            ("Or", TokenKind::Keyword(Keyword::Or)),
            ("nOT", TokenKind::Keyword(Keyword::Not)),
            ("IN", TokenKind::Keyword(Keyword::In)),
            ("Pr", TokenKind::Keyword(Keyword::Pr)),
            ("IS", TokenKind::Keyword(Keyword::Is)),
            ("NULL", TokenKind::Keyword(Keyword::Null)),
            ("True", TokenKind::Keyword(Keyword::True)),
            ("fALSE", TokenKind::Keyword(Keyword::False)),
            ("LIKE", TokenKind::Op(Like)),
            ("Eq", TokenKind::Op(Eq)),
            ("NE", TokenKind::Op(Ne)),
            ("gt", TokenKind::Op(Gt)),
            ("GE", TokenKind::Op(Ge)),
            ("lt", TokenKind::Op(Lt)),
            ("Le", TokenKind::Op(Le)),
            ("CO", TokenKind::Op(Co)),
            ("sW", TokenKind::Op(Sw)),
            ("Ew", TokenKind::Op(Ew)),
        ];
        for (text, kind) in cases {
            assert_eq!(one(text), kind, "{text}");
        }
    }

    #[test]
    fn names_and_paths() {
        assert_eq!(one("firstName"), path_kind(&["firstName"]));
        assert_eq!(one("_x9"), path_kind(&["_x9"]));
        assert_eq!(
            one("attributes.department"),
            path_kind(&["attributes", "department"])
        );
        // Later names may start with a digit, and may spell keywords.
        assert_eq!(one("attributes.2fa"), path_kind(&["attributes", "2fa"]));
        assert_eq!(one("attributes.in"), path_kind(&["attributes", "in"]));
        assert_eq!(one("a.b.c"), path_kind(&["a", "b", "c"]));
        // '-' inside a name, as in SCIM's attribute names (RFC 7643 §2.1).
        assert_eq!(
            one("attributes.cost-center"),
            path_kind(&["attributes", "cost-center"])
        );
        assert_eq!(
            kinds("attributes.x-1 = -1"),
            vec![
                path_kind(&["attributes", "x-1"]),
                TokenKind::Op(CompareOp::Eq),
                TokenKind::Num(Number::from(-1)),
            ]
        );
        // Letters of any script; keywords only as whole words.
        assert_eq!(one("straße.ΟΔΟΣ"), path_kind(&["straße", "ΟΔΟΣ"]));
        assert_eq!(one("android"), path_kind(&["android"]));
        assert_eq!(one("nullable"), path_kind(&["nullable"]));
    }

    #[test]
    fn bad_paths() {
        assert_eq!(lex_error("a.").0, 2);
        assert_eq!(lex_error("a..b").0, 2);
        let (position, message) = lex_error("x = a.-");
        assert_eq!(position, 6);
        assert_eq!(message, "expected a name after '.'");
        // A name starts with a letter or '_': '-' there starts a number.
        let (position, message) = lex_error("-a = 1");
        assert_eq!(
            (position, message.as_str()),
            (1, "expected a digit after '-'")
        );
        // The first name holds no '-': an operator word before a negative
        // number stays an operator.
        assert_eq!(
            kinds("x gt-1"),
            vec![
                path_kind(&["x"]),
                TokenKind::Op(CompareOp::Gt),
                TokenKind::Num(Number::from(-1)),
            ]
        );
        let (position, message) = lex_error("cost-center = 1");
        assert_eq!(position, 4);
        assert!(message.contains("holds no '-'"), "{message}");
        // Before a digit, it is a number: `x-1` lexes as `x` and `-1`.
        assert_eq!(
            kinds("x-1"),
            vec![path_kind(&["x"]), TokenKind::Num(Number::from(-1))]
        );
        let (position, message) = lex_error("a = 1 . b");
        assert_eq!(
            (position, message.as_str()),
            (6, "unexpected character '.'")
        );
    }

    #[test]
    fn single_quoted_strings() {
        assert_eq!(one("'abc'"), str_kind("abc"));
        assert_eq!(one("''"), str_kind(""));
        assert_eq!(one("'O''Brien'"), str_kind("O'Brien"));
        assert_eq!(one("''''"), str_kind("'"));
        // Backslashes and double quotes are plain characters here.
        assert_eq!(one(r#"'a\n"b'"#), str_kind(r#"a\n"b"#));
        assert_eq!(one("'zoë\tß'"), str_kind("zoë\tß"));
        assert_eq!(
            kinds("'a' 'b'"),
            vec![str_kind("a"), str_kind("b")],
            "two strings, not one with a quote"
        );
    }

    #[test]
    fn double_quoted_strings_use_json_escapes() {
        assert_eq!(one(r#""abc""#), str_kind("abc"));
        assert_eq!(one(r#""a\"b\u00e9""#), str_kind("a\"bé"));
        assert_eq!(
            one(r#""\" \\ \/ \b \f \n \r \t""#),
            str_kind("\" \\ / \u{8} \u{c} \n \r \t")
        );
        assert_eq!(one(r#""\u00E9\u4e2D""#), str_kind("é中"));
        assert_eq!(one(r#""\ud83d\ude00""#), str_kind("😀"));
        assert_eq!(one(r#""'""#), str_kind("'"));
        assert_eq!(one("\"\u{7f}é\""), str_kind("\u{7f}é"));
    }

    #[test]
    fn bad_strings() {
        let cases: &[(&str, usize, &str)] = &[
            ("a = 'abc", 4, "unterminated string"),
            ("a = 'O''", 4, "unterminated string"),
            ("a = \"abc", 4, "unterminated string"),
            ("a = \"abc\\", 4, "unterminated string"),
            ("a = \"a\\x\"", 6, "invalid escape \\x"),
            ("a = \"a\\'\"", 6, "invalid escape \\'"),
            ("a = \"\\u12\"", 5, "expected four hex digits"),
            ("a = \"\\u12g4\"", 5, "expected four hex digits"),
            ("a = \"\\ud800\"", 5, "unpaired surrogate \\ud800"),
            ("a = \"\\\n\"", 5, "invalid escape '\\' followed by U+000A"),
            ("a = \"\\ud800\\u0041\"", 5, "unpaired surrogate \\ud800"),
            ("a = \"\\udc00\"", 5, "unpaired surrogate \\udc00"),
            ("a = \"x\ny\"", 6, "control character U+000A"),
            ("a = \"\t\"", 5, "control character U+0009"),
            // Positions count characters, not bytes.
            ("ü = 'é", 4, "unterminated string"),
            ("é = \"éé\\q\"", 7, "invalid escape \\q"),
        ];
        assert_errors(cases, None, lex);
    }

    #[test]
    fn numbers() {
        let cases = [
            ("0", num("0")),
            ("-0", Number::from(0_i64)),
            ("42", num("42")),
            ("-17", num("-17")),
            ("18446744073709551615", Number::from(u64::MAX)),
            ("-9223372036854775808", Number::from(i64::MIN)),
            ("1.5", num("1.5")),
            ("-0.25", num("-0.25")),
            ("1e3", num("1e3")),
            ("1E+3", num("1000.0")),
            ("2.5e-3", num("0.0025")),
            ("0.0", num("0.0")),
        ];
        for (text, number) in cases {
            assert_eq!(one(text), TokenKind::Num(number), "{text}");
        }
        // Fractions and exponents give floats, integers stay integers.
        assert!(matches!(one("1e3"), TokenKind::Num(n) if n.is_f64()));
        assert!(matches!(one("42"), TokenKind::Num(n) if n.is_u64()));
        assert!(matches!(one("-42"), TokenKind::Num(n) if n.is_i64()));
    }

    #[test]
    fn bad_numbers() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "x = 18446744073709551616",
                4,
                "the number 18446744073709551616 is out of range (too large): whole numbers \
                 must be from -9223372036854775808 to 18446744073709551615",
            ),
            (
                "x = -9223372036854775809",
                4,
                "the number -9223372036854775809 is out of range (too small): whole numbers \
                 must be from -9223372036854775808 to 18446744073709551615",
            ),
            (
                "x = 1e999",
                4,
                "the number 1e999 is out of range (too large)",
            ),
            ("x = -1e999", 4, "must be finite"),
            ("x = 07", 4, "cannot start with 0"),
            ("x = -007", 4, "cannot start with 0"),
            ("x = -", 5, "expected a digit after '-'"),
            ("x = -a", 5, "expected a digit after '-'"),
            ("x = 1.", 6, "expected a digit after the decimal point"),
            ("x = 1.e5", 6, "expected a digit after the decimal point"),
            ("x = 1e", 6, "expected a digit in the exponent"),
            ("x = 1e+", 7, "expected a digit in the exponent"),
            ("x = 12abc", 6, "unexpected 'a' after the number '12'"),
            ("x = 1.5.2", 7, "unexpected '.' after the number '1.5'"),
            ("x = +1", 4, "unexpected character '+'"),
            ("x = .5", 4, "unexpected character '.'"),
        ];
        assert_errors(cases, None, lex);
    }

    #[test]
    fn positions_count_characters() {
        let tokens = lex("名前 = 'ü' and\u{3000}x pr").unwrap();
        let starts: Vec<usize> = tokens.iter().map(|(_, start)| *start).collect();
        assert_eq!(starts, vec![0, 3, 5, 9, 13, 15]);
    }

    #[test]
    fn unexpected_characters() {
        assert_eq!(
            lex_error("a ! b"),
            (2, "unexpected '!' (the operator is '!=')".to_owned())
        );
        assert_eq!(lex_error("a == b;").0, 6);
        assert_eq!(
            lex_error("a = \u{0}"),
            (4, "unexpected character U+0000".to_owned())
        );
        assert_eq!(
            lex_error("a = [1]"),
            (4, "unexpected character '['".to_owned())
        );
    }

    #[test]
    fn spelling_gives_the_source_text() {
        let mut lexer = Lexer::new(" Ü.b  AND 'x''y'");
        let first = lexer.next_token().unwrap();
        let second = lexer.next_token().unwrap();
        let third = lexer.next_token().unwrap();
        assert_eq!(lexer.spelling(&first), "Ü.b");
        assert_eq!(lexer.spelling(&second), "AND");
        assert_eq!(lexer.spelling(&third), "'x''y'");
        assert_eq!(lexer.next_token().unwrap().kind, TokenKind::End);
        assert_eq!(lexer.next_token().unwrap().kind, TokenKind::End);
    }

    #[test]
    fn whole_path() {
        assert_eq!(
            path("attributes.in", 3).unwrap(),
            Path {
                segments: vec!["attributes".into(), "in".into()],
                position: 3,
            }
        );
        assert_eq!(path("and", 0).unwrap().segments, vec!["and".to_owned()]);
        let error = |text: &str| positioned(path(text, 10), None);
        assert_eq!(error("").0, 10);
        assert_eq!(error("1a").0, 10);
        assert_eq!(error("a b").0, 11);
        assert_eq!(error("a+b").0, 11);
        assert_eq!(error("a.-b").0, 12);
        assert_eq!(error("a-b.c").0, 11);
        assert_eq!(
            path("a.b-c.d-", 0).unwrap().segments,
            vec!["a", "b-c", "d-"]
        );
        assert_eq!(error("ab.").0, 13);
        assert!(error("a b").1.contains("U+0020"));
    }

    #[test]
    fn quoted_cuts_long_text() {
        assert_eq!(quoted("abc"), "'abc'");
        let long = "é".repeat(50);
        assert_eq!(quoted(&long), format!("'{}…'", "é".repeat(40)));
    }
}
