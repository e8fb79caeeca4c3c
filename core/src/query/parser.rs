//! The expression form of a filter (docs/reference/queries.md, Expression form), and the comma
//! lists of `sort` and `fields` (the parameter form), read into the syntax tree of [`super::ast`].
//!
//! ```text
//! expr  := or
//! or    := and ("or" and)*
//! and   := unary ("and" unary)*
//! unary := "not" unary | "(" expr ")" | test
//! test  := path op value | path "in" "(" value ("," value)* ")" | path "pr"
//!        | path "is" ["not"] "null"
//! ```
//!
//! Every error is an `InvalidQuery` carrying the character position (0-based,
//! in Unicode scalar values) where the problem was found; `sort` and `fields`
//! errors also name their parameter.

use super::ast::{CompareOp, Expr, Literal, Path, SortKey, Value};
use super::lexer::{self, Keyword, Lexer, Token, TokenKind, in_field, quoted, syntax_error};
use crate::{Error, Result};

/// How deeply `not` and parentheses may nest, counted together; deeper is `InvalidQuery`.
pub const MAX_DEPTH: usize = 64;

/// Reads a filter expression (docs/reference/queries.md, Expression form).
///
/// Empty or whitespace-only text is no filter (`Ok(None)`). `= null` and
/// `eq null` give [`Expr::IsNull`]; `!= null`, `<> null` and `ne null` give
/// [`Expr::Present`]. `and` and `or` chains are flat lists; parentheses
/// nest as written.
///
/// ```
/// use rosterdb::internals::ast::Expr;
/// use rosterdb::internals::parser::parse_expr;
///
/// let filter = parse_expr("lastName = 'O''Brien' and not enabled = false")?;
/// assert!(matches!(filter, Some(Expr::And(parts)) if parts.len() == 2));
/// assert_eq!(parse_expr("  ")?, None);
/// # Ok::<(), rosterdb::Error>(())
/// ```
pub fn parse_expr(text: &str) -> Result<Option<Expr>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut parser = Parser::new(text)?;
    let expr = parser.or()?;
    parser.finish()?;
    Ok(Some(expr))
}

/// Reads a `sort` value: a comma list of paths, each optionally suffixed
/// `:asc` or `:desc` (case-insensitive), e.g. `lastName,firstName:desc`.
///
/// Blank text is no sort keys; a blank item is an error. Spaces around
/// items, paths and directions are ignored. Errors name the field `sort`.
pub fn parse_sort(text: &str) -> Result<Vec<SortKey>> {
    comma_list(text, sort_key).map_err(|e| in_field(e, "sort"))
}

/// Reads one sort key (`lastName` or `firstName:desc`), as a binding that
/// takes a list of strings passes them; errors name the field `sort`.
pub fn parse_sort_key(text: &str) -> Result<SortKey> {
    sort_key(text, 0).map_err(|e| in_field(e, "sort"))
}

/// Reads a `fields` value: a comma list of paths, e.g. `id,username`.
///
/// Blank text is no paths; a blank item is an error. Spaces around items
/// are ignored. Errors name the field `fields`.
pub fn parse_fields(text: &str) -> Result<Vec<Path>> {
    comma_list(text, field).map_err(|e| in_field(e, "fields"))
}

/// Reads one path of a projection, as a binding that takes a list of
/// strings passes them; errors name the field `fields`.
pub fn parse_field(text: &str) -> Result<Path> {
    field(text, 0).map_err(|e| in_field(e, "fields"))
}

/// Each comma-separated item of `text` read by `item`, which gets the
/// item's character position; blank text gives no items.
fn comma_list<T>(text: &str, item: fn(&str, usize) -> Result<T>) -> Result<Vec<T>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut base = 0_usize;
    text.split(',')
        .map(|part| {
            let at = base;
            base = base.saturating_add(part.chars().count()).saturating_add(1);
            item(part, at)
        })
        .collect()
}

/// `path[:asc|:desc]` at character position `base`.
fn sort_key(text: &str, base: usize) -> Result<SortKey> {
    let (name, direction) = match text.split_once(':') {
        Some((name, direction)) => (name, Some(direction)),
        None => (text, None),
    };
    let path = field(name, base)?;
    let descending = match direction {
        None => false,
        Some(direction) => {
            let at = base
                .saturating_add(name.chars().count())
                .saturating_add(1)
                .saturating_add(leading_spaces(direction));
            match direction.trim().to_ascii_lowercase().as_str() {
                "asc" => false,
                "desc" => true,
                _ => {
                    return Err(syntax_error(
                        at,
                        format!(
                            "a sort direction is 'asc' or 'desc', not {}",
                            quoted(direction.trim())
                        ),
                    ));
                }
            }
        }
    };
    Ok(SortKey { path, descending })
}

/// A path with optional spaces around it, at character position `base`.
fn field(text: &str, base: usize) -> Result<Path> {
    let name = text.trim();
    if name.is_empty() {
        return Err(syntax_error(
            base,
            "expected a field name, found nothing (is there an extra comma?)",
        ));
    }
    lexer::path(name, base.saturating_add(leading_spaces(text)))
}

fn leading_spaces(text: &str) -> usize {
    text.chars().take_while(|c| c.is_whitespace()).count()
}

/// `expr` with every position cleared (paths at 0, values at `None`), so
/// that filters can be compared by what they mean, however they were spaced.
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // for tests
pub fn without_positions(expr: &Expr) -> Expr {
    let path = |p: &Path| Path {
        segments: p.segments.clone(),
        position: 0,
    };
    let value = |v: &Value| Value {
        literal: v.literal.clone(),
        position: None,
    };
    match expr {
        Expr::And(parts) => Expr::And(parts.iter().map(without_positions).collect()),
        Expr::Or(parts) => Expr::Or(parts.iter().map(without_positions).collect()),
        Expr::Not(inner) => Expr::Not(Box::new(without_positions(inner))),
        Expr::Compare {
            path: p,
            op,
            value: v,
        } => Expr::Compare {
            path: path(p),
            op: *op,
            value: value(v),
        },
        Expr::In { path: p, values } => Expr::In {
            path: path(p),
            values: values.iter().map(value).collect(),
        },
        Expr::Present(p) => Expr::Present(path(p)),
        Expr::IsNull(p) => Expr::IsNull(path(p)),
    }
}

/// `= null` is `is null` and `!= null` is `is not null` (docs/reference/queries.md, Expression
/// form).
fn compare(path: Path, op: CompareOp, value: Value) -> Expr {
    match (op, &value.literal) {
        (CompareOp::Eq, Literal::Null) => Expr::IsNull(path),
        (CompareOp::Ne, Literal::Null) => Expr::Present(path),
        _ => Expr::Compare { path, op, value },
    }
}

/// A recursive-descent parser with one token of lookahead.
struct Parser {
    lexer: Lexer,
    /// The token under the cursor, not yet consumed.
    token: Token,
    /// The token consumed last, for messages.
    previous: Option<Token>,
    /// How many `not`s and parentheses enclose the cursor.
    depth: usize,
}

impl Parser {
    fn new(text: &str) -> Result<Self> {
        let mut lexer = Lexer::new(text);
        let token = lexer.next_token()?;
        Ok(Parser {
            lexer,
            token,
            previous: None,
            depth: 0,
        })
    }

    /// Consumes the token under the cursor.
    fn advance(&mut self) -> Result<()> {
        let next = self.lexer.next_token()?;
        self.previous = Some(std::mem::replace(&mut self.token, next));
        Ok(())
    }

    fn at_keyword(&self, keyword: Keyword) -> bool {
        self.token.kind == TokenKind::Keyword(keyword)
    }

    fn or(&mut self) -> Result<Expr> {
        self.chain(Keyword::Or, Self::and, Expr::Or)
    }

    fn and(&mut self) -> Result<Expr> {
        self.chain(Keyword::And, Self::unary, Expr::And)
    }

    /// `part (keyword part)*`, joined when there are several.
    fn chain(
        &mut self,
        keyword: Keyword,
        part: fn(&mut Self) -> Result<Expr>,
        join: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr> {
        let first = part(self)?;
        if !self.at_keyword(keyword) {
            return Ok(first);
        }
        let mut parts = vec![first];
        while self.at_keyword(keyword) {
            self.advance()?;
            parts.push(part(self)?);
        }
        Ok(join(parts))
    }

    fn unary(&mut self) -> Result<Expr> {
        match self.token.kind {
            TokenKind::Keyword(Keyword::Not) => self.nested(|parser| {
                parser.advance()?;
                Ok(Expr::Not(Box::new(parser.unary()?)))
            }),
            TokenKind::LParen => self.nested(Self::group),
            _ => self.test(),
        }
    }

    /// Runs `inner` one level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested(&mut self, inner: impl FnOnce(&mut Self) -> Result<Expr>) -> Result<Expr> {
        if self.depth >= MAX_DEPTH {
            return Err(crate::Error::query(
                crate::QueryCode::TooDeep,
                format!("the filter nests 'not' and parentheses more than {MAX_DEPTH} levels deep"),
            )
            .at_position(self.token.start));
        }
        // Below MAX_DEPTH, checked just above.
        self.depth = self.depth.saturating_add(1);
        let expr = inner(self);
        self.depth = self.depth.saturating_sub(1);
        expr
    }

    /// `( expr )`, the cursor on the `(`.
    fn group(&mut self) -> Result<Expr> {
        let open = self.token.start;
        self.advance()?;
        let expr = self.or()?;
        if self.token.kind != TokenKind::RParen {
            return Err(self.expected(
                "')', 'and' or 'or'",
                &format!(" (the '(' at position {open} is not closed)"),
            ));
        }
        self.advance()?;
        Ok(expr)
    }

    fn test(&mut self) -> Result<Expr> {
        let TokenKind::Path(segments) = &self.token.kind else {
            return Err(self.expected("a field name", ""));
        };
        let path = Path {
            segments: segments.clone(),
            position: self.token.start,
        };
        self.advance()?;
        match self.token.kind {
            TokenKind::Op(op) => {
                self.advance()?;
                let value = self.value()?;
                Ok(compare(path, op, value))
            }
            TokenKind::Keyword(Keyword::In) => {
                self.advance()?;
                let values = self.list()?;
                Ok(Expr::In { path, values })
            }
            TokenKind::Keyword(Keyword::Pr) => {
                self.advance()?;
                Ok(Expr::Present(path))
            }
            TokenKind::Keyword(Keyword::Is) => {
                self.advance()?;
                let negated = self.at_keyword(Keyword::Not);
                if negated {
                    self.advance()?;
                }
                if !self.at_keyword(Keyword::Null) {
                    let what = if negated {
                        "'null'"
                    } else {
                        "'null' or 'not null'"
                    };
                    return Err(self.expected(what, ""));
                }
                self.advance()?;
                Ok(if negated {
                    Expr::Present(path)
                } else {
                    Expr::IsNull(path)
                })
            }
            _ => Err(self.expected(
                "an operator",
                " (one of = != <> < <= > >= like eq ne gt ge lt le co sw ew, or in, pr, is)",
            )),
        }
    }

    /// `( value ("," value)* )`, the cursor on the `(`.
    fn list(&mut self) -> Result<Vec<Value>> {
        if self.token.kind != TokenKind::LParen {
            return Err(self.expected("'('", " (a list is written in (a, b, c))"));
        }
        self.advance()?;
        if self.token.kind == TokenKind::RParen {
            return Err(syntax_error(
                self.token.start,
                "an 'in' list needs at least one value",
            ));
        }
        let mut values = vec![self.value()?];
        loop {
            match self.token.kind {
                TokenKind::Comma => {
                    self.advance()?;
                    values.push(self.value()?);
                }
                TokenKind::RParen => {
                    self.advance()?;
                    return Ok(values);
                }
                _ => return Err(self.expected("',' or ')'", " in the 'in' list")),
            }
        }
    }

    fn value(&mut self) -> Result<Value> {
        let literal = match &self.token.kind {
            TokenKind::Str(text) => Literal::Str(text.clone()),
            TokenKind::Num(number) => Literal::Num(number.clone()),
            TokenKind::Keyword(Keyword::True) => Literal::Bool(true),
            TokenKind::Keyword(Keyword::False) => Literal::Bool(false),
            TokenKind::Keyword(Keyword::Null) => Literal::Null,
            TokenKind::Path(_) => {
                return Err(self.expected("a value", " (text is quoted: 'text' or \"text\")"));
            }
            _ => return Err(self.expected("a value", "")),
        };
        let position = Some(self.token.start);
        self.advance()?;
        Ok(Value { literal, position })
    }

    /// Checks that the whole input was read.
    fn finish(&self) -> Result<()> {
        let message = match self.token.kind {
            TokenKind::End => return Ok(()),
            TokenKind::RParen => "unexpected ')' with no '(' before it".to_owned(),
            _ => format!(
                "unexpected text after a complete filter: found {} (join tests with 'and' or 'or')",
                self.describe(&self.token)
            ),
        };
        Err(syntax_error(self.token.start, message))
    }

    /// "expected WHAT after PREVIOUS, found TOKEN" at the token under the cursor.
    fn expected(&self, what: &str, hint: &str) -> Error {
        let after = match &self.previous {
            Some(previous) => format!(" after {}", self.describe(previous)),
            None => String::new(),
        };
        syntax_error(
            self.token.start,
            format!(
                "expected {what}{after}, found {}{hint}",
                self.describe(&self.token)
            ),
        )
    }

    /// A token for a message: its spelling, except for strings (never echoed) and the end.
    fn describe(&self, token: &Token) -> String {
        match token.kind {
            TokenKind::Str(_) => "a string".to_owned(),
            TokenKind::End => "the end of the input".to_owned(),
            _ => quoted(&self.lexer.spelling(token)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::testing::{assert_errors, positioned};
    use super::*;
    use serde_json::Number;

    fn parse(text: &str) -> Expr {
        match parse_expr(text) {
            Ok(Some(expr)) => expr,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    fn assert_error(text: &str, position: usize, message: &str) {
        assert_errors(&[(text, position, message)], None, parse_expr);
    }

    // Builders of expected trees; `same` ignores positions.

    fn path(text: &str) -> Path {
        Path {
            segments: text.split('.').map(str::to_owned).collect(),
            position: 0,
        }
    }

    fn value(literal: Literal) -> Value {
        Value {
            literal,
            position: None,
        }
    }

    fn int(n: i64) -> Literal {
        Literal::Num(Number::from(n))
    }

    fn text(s: &str) -> Literal {
        Literal::Str(s.to_owned())
    }

    fn cmp(field: &str, op: CompareOp, literal: Literal) -> Expr {
        Expr::Compare {
            path: path(field),
            op,
            value: value(literal),
        }
    }

    fn eq(field: &str, n: i64) -> Expr {
        cmp(field, CompareOp::Eq, int(n))
    }

    fn not(expr: Expr) -> Expr {
        Expr::Not(Box::new(expr))
    }

    /// Asserts that `text` parses to `expected`, positions aside.
    fn same(text: &str, expected: Expr) {
        assert_eq!(without_positions(&parse(text)), expected, "{text:?}");
    }

    #[test]
    fn blank_text_is_no_filter() {
        for text in ["", " ", "\t\n \u{3000}"] {
            assert_eq!(parse_expr(text).unwrap(), None, "{text:?}");
        }
    }

    #[test]
    fn the_spec_examples() {
        same(
            "createdAt >= '2014-01-15' and enabled = true",
            Expr::And(vec![
                cmp("createdAt", CompareOp::Ge, text("2014-01-15")),
                cmp("enabled", CompareOp::Eq, Literal::Bool(true)),
            ]),
        );
        same(
            "username sw \"fr\" and not (roles eq 3)",
            Expr::And(vec![
                cmp("username", CompareOp::Sw, text("fr")),
                not(eq("roles", 3)),
            ]),
        );
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        same(
            "a = 1 or b = 2 and not c = 3",
            Expr::Or(vec![
                eq("a", 1),
                Expr::And(vec![eq("b", 2), not(eq("c", 3))]),
            ]),
        );
        same(
            "not a = 1 and b = 2",
            Expr::And(vec![not(eq("a", 1)), eq("b", 2)]),
        );
        same(
            "a = 1 and b = 2 or c = 3",
            Expr::Or(vec![Expr::And(vec![eq("a", 1), eq("b", 2)]), eq("c", 3)]),
        );
        same(
            "a=1 and b=2 and c=3 or d=4 or e=5",
            Expr::Or(vec![
                Expr::And(vec![eq("a", 1), eq("b", 2), eq("c", 3)]),
                eq("d", 4),
                eq("e", 5),
            ]),
        );
        same("not not a = 1", not(not(eq("a", 1))));
    }

    #[test]
    fn parentheses_group_as_written() {
        same(
            "(a = 1 or b = 2) and c = 3",
            Expr::And(vec![Expr::Or(vec![eq("a", 1), eq("b", 2)]), eq("c", 3)]),
        );
        same(
            "a = 1 and (b = 2 and c = 3)",
            Expr::And(vec![eq("a", 1), Expr::And(vec![eq("b", 2), eq("c", 3)])]),
        );
        same("((a = 1))", eq("a", 1));
        same(
            "not (a = 1 or b = 2)",
            not(Expr::Or(vec![eq("a", 1), eq("b", 2)])),
        );
        same("(not(a=1))", not(eq("a", 1)));
    }

    #[test]
    fn every_operator_spelling() {
        use CompareOp::*;
        let cases = [
            ("=", Eq),
            ("eq", Eq),
            ("!=", Ne),
            ("<>", Ne),
            ("ne", Ne),
            ("<", Lt),
            ("lt", Lt),
            ("<=", Le),
            ("le", Le),
            (">", Gt),
            ("gt", Gt),
            (">=", Ge),
            ("ge", Ge),
            ("like", Like),
            ("co", Co),
            ("sw", Sw),
            ("ew", Ew),
        ];
        for (spelling, op) in cases {
            same(&format!("x {spelling} 'v'"), cmp("x", op, text("v")));
            same(
                &format!("x {} 'v'", spelling.to_uppercase()),
                cmp("x", op, text("v")),
            );
        }
    }

    #[test]
    fn keywords_ignore_case() {
        same(
            "a = 1 AND b Eq True OR c IS NOT NULL",
            Expr::Or(vec![
                Expr::And(vec![
                    eq("a", 1),
                    cmp("b", CompareOp::Eq, Literal::Bool(true)),
                ]),
                Expr::Present(path("c")),
            ]),
        );
        same(
            "NOT x LIKE 'a%' and y = FALSE and z In (1) and w PR and v Is Null",
            Expr::And(vec![
                not(cmp("x", CompareOp::Like, text("a%"))),
                cmp("y", CompareOp::Eq, Literal::Bool(false)),
                Expr::In {
                    path: path("z"),
                    values: vec![value(int(1))],
                },
                Expr::Present(path("w")),
                Expr::IsNull(path("v")),
            ]),
        );
    }

    #[test]
    fn values() {
        same("a = 'O''Brien'", cmp("a", CompareOp::Eq, text("O'Brien")));
        same(
            r#"a = "a\"b\u00e9""#,
            cmp("a", CompareOp::Eq, text("a\"bé")),
        );
        same("a = ''", cmp("a", CompareOp::Eq, text("")));
        same("a = -12", eq("a", -12));
        same(
            "a >= 18446744073709551615",
            cmp("a", CompareOp::Ge, Literal::Num(Number::from(u64::MAX))),
        );
        same(
            "a < 1.5e2",
            cmp(
                "a",
                CompareOp::Lt,
                Literal::Num(Number::from_f64(150.0).unwrap()),
            ),
        );
        same("a = true", cmp("a", CompareOp::Eq, Literal::Bool(true)));
        same("a = false", cmp("a", CompareOp::Eq, Literal::Bool(false)));
    }

    #[test]
    fn paths() {
        same(
            "attributes.department = 'R&D'",
            cmp("attributes.department", CompareOp::Eq, text("R&D")),
        );
        same(
            "externalIds.type pr",
            Expr::Present(path("externalIds.type")),
        );
        same(
            "attributes.in = 1 and attributes.2fa = true",
            Expr::And(vec![
                eq("attributes.in", 1),
                cmp("attributes.2fa", CompareOp::Eq, Literal::Bool(true)),
            ]),
        );
    }

    #[test]
    fn in_lists() {
        same(
            "roles in (1, 2, 3)",
            Expr::In {
                path: path("roles"),
                values: vec![value(int(1)), value(int(2)), value(int(3))],
            },
        );
        same(
            "x in ('a',\"b\",null,true)",
            Expr::In {
                path: path("x"),
                values: vec![
                    value(text("a")),
                    value(text("b")),
                    value(Literal::Null),
                    value(Literal::Bool(true)),
                ],
            },
        );
    }

    #[test]
    fn presence_tests() {
        same("a pr", Expr::Present(path("a")));
        same("a is null", Expr::IsNull(path("a")));
        same("a is not null", Expr::Present(path("a")));
        same("not a is null", not(Expr::IsNull(path("a"))));
    }

    #[test]
    fn null_comparisons_map_to_presence() {
        for text in ["a = null", "a eq null", "a EQ NULL", "a=null"] {
            same(text, Expr::IsNull(path("a")));
        }
        for text in ["a != null", "a <> null", "a ne null", "a NE Null"] {
            same(text, Expr::Present(path("a")));
        }
        // Other operators keep the null for the checker to judge.
        same("a > null", cmp("a", CompareOp::Gt, Literal::Null));
        same("a like null", cmp("a", CompareOp::Like, Literal::Null));
    }

    #[test]
    fn positions_are_character_indexes() {
        let expr = parse("firstName = 'x' and ü.é in ('é', 2)");
        let Expr::And(parts) = expr else {
            panic!("{expr:?}")
        };
        assert_eq!(
            parts[0],
            Expr::Compare {
                path: Path {
                    segments: vec!["firstName".into()],
                    position: 0
                },
                op: CompareOp::Eq,
                value: Value {
                    literal: text("x"),
                    position: Some(12)
                },
            }
        );
        assert_eq!(
            parts[1],
            Expr::In {
                path: Path {
                    segments: vec!["ü".into(), "é".into()],
                    position: 20
                },
                values: vec![
                    Value {
                        literal: text("é"),
                        position: Some(28)
                    },
                    Value {
                        literal: int(2),
                        position: Some(33)
                    },
                ],
            }
        );
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let cases: &[(&str, usize, &str)] = &[
            ("a = 'abc", 4, "unterminated string"),
            ("a = \"a\\xb\"", 6, "invalid escape \\x"),
            (
                "a =",
                3,
                "expected a value after '=', found the end of the input",
            ),
            ("a = )", 4, "expected a value after '=', found ')'"),
            (
                "a eq and b = 1",
                5,
                "expected a value after 'eq', found 'and'",
            ),
            ("a = abc", 4, "found 'abc' (text is quoted"),
            ("a ~ 1", 2, "unexpected character '~'"),
            ("a foo 1", 2, "expected an operator after 'a', found 'foo'"),
            (
                "a",
                1,
                "expected an operator after 'a', found the end of the input",
            ),
            ("a = 1 b = 2", 6, "after a complete filter: found 'b'"),
            ("a = 1 'x'", 6, "after a complete filter: found a string"),
            ("a = 1)", 5, "unexpected ')' with no '(' before it"),
            ("()", 1, "expected a field name after '(', found ')'"),
            ("(a = 1", 6, "the '(' at position 0 is not closed"),
            (
                "((a = 1) or b pr",
                16,
                "the '(' at position 0 is not closed",
            ),
            ("a in ()", 6, "an 'in' list needs at least one value"),
            ("a in (1,)", 8, "expected a value after ',', found ')'"),
            ("a in 1", 5, "expected '(' after 'in', found '1'"),
            ("a in (1 2)", 8, "expected ',' or ')' after '1', found '2'"),
            ("a in (1", 7, "found the end of the input in the 'in' list"),
            ("a is", 4, "expected 'null' or 'not null' after 'is'"),
            ("a is not 1", 9, "expected 'null' after 'not', found '1'"),
            ("and a = 1", 0, "expected a field name, found 'and'"),
            ("a = 1 and", 9, "expected a field name after 'and'"),
            (
                "a = 1 or or b = 2",
                9,
                "expected a field name after 'or', found 'or'",
            ),
            ("not", 3, "expected a field name after 'not'"),
            ("1 = a", 0, "expected a field name, found '1'"),
            ("'a' = a", 0, "expected a field name, found a string"),
            (
                "a = 1 and (b = 2",
                16,
                "the '(' at position 10 is not closed",
            ),
            ("ü = 'é' and ö", 13, "expected an operator after 'ö'"),
        ];
        assert_errors(cases, None, parse_expr);
    }

    #[test]
    fn the_first_error_in_the_text_is_reported() {
        // The lexer runs one token ahead of the parser, no further.
        assert_error("a = = 'unterminated", 4, "expected a value after '='");
    }

    #[test]
    fn nesting_is_bounded() {
        let deepest = format!("{}a = 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        same(&deepest, eq("a", 1));
        let too_deep = format!(
            "{}a = 1{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_error(&too_deep, MAX_DEPTH, "more than 64 levels deep");
        assert_error(
            &format!("{}a pr", "not ".repeat(MAX_DEPTH + 1)),
            4 * MAX_DEPTH,
            "more than 64 levels deep",
        );
        assert_error(
            &format!("{}a pr", "not (".repeat(40)),
            5 * (MAX_DEPTH / 2),
            "more than 64 levels deep",
        );
        // Far deeper input fails the same way instead of overflowing the stack.
        assert_error(&"(".repeat(1_000_000), MAX_DEPTH, "levels deep");
        assert_error(&"not ".repeat(1_000_000), 4 * MAX_DEPTH, "levels deep");
        // Long flat chains are not nesting.
        let long = vec!["a = 1"; 10_000].join(" and ");
        assert!(matches!(parse(&long), Expr::And(parts) if parts.len() == 10_000));
    }

    #[test]
    fn sort_keys() {
        let keys = parse_sort("lastName,firstName:desc").unwrap();
        assert_eq!(
            keys,
            vec![
                SortKey {
                    path: Path {
                        segments: vec!["lastName".into()],
                        position: 0
                    },
                    descending: false
                },
                SortKey {
                    path: Path {
                        segments: vec!["firstName".into()],
                        position: 9
                    },
                    descending: true
                },
            ]
        );
        let keys = parse_sort(" a:ASC , attributes.x : Desc,é:asc").unwrap();
        let summary: Vec<(Vec<String>, usize, bool)> = keys
            .into_iter()
            .map(|k| (k.path.segments, k.path.position, k.descending))
            .collect();
        assert_eq!(
            summary,
            vec![
                (vec!["a".into()], 1, false),
                (vec!["attributes".into(), "x".into()], 9, true),
                (vec!["é".into()], 29, false),
            ]
        );
        assert_eq!(parse_sort("").unwrap(), vec![]);
        assert_eq!(parse_sort("  ").unwrap(), vec![]);
        assert_eq!(
            parse_sort_key("createdAt:DESC").unwrap(),
            SortKey {
                path: Path {
                    segments: vec!["createdAt".into()],
                    position: 0
                },
                descending: true
            }
        );
    }

    #[test]
    fn bad_sort_keys() {
        let cases: &[(&str, usize, &str)] = &[
            ("a,,b", 2, "expected a field name, found nothing"),
            ("a,", 2, "found nothing"),
            (",a", 0, "found nothing"),
            ("a:up", 2, "a sort direction is 'asc' or 'desc', not 'up'"),
            ("a: sideways ", 3, "not 'sideways'"),
            ("a:", 2, "not ''"),
            ("a:desc:asc", 2, "not 'desc:asc'"),
            ("é,b c", 3, "unexpected U+0020 in a field name"),
            ("a+b", 1, "unexpected '+'"),
            ("a-b", 1, "unexpected '-'"),
            (":desc", 0, "found nothing"),
            ("1a", 0, "starts with a letter or '_'"),
        ];
        assert_errors(cases, Some("sort"), parse_sort);
        assert_eq!(positioned(parse_sort_key(""), Some("sort")).0, 0);
        assert_eq!(positioned(parse_sort_key("a,b"), Some("sort")).0, 1);
    }

    #[test]
    fn field_lists() {
        let fields = parse_fields("id, username ,attributes.city").unwrap();
        let summary: Vec<(Vec<String>, usize)> = fields
            .into_iter()
            .map(|p| (p.segments, p.position))
            .collect();
        assert_eq!(
            summary,
            vec![
                (vec!["id".into()], 0),
                (vec!["username".into()], 4),
                (vec!["attributes".into(), "city".into()], 14),
            ]
        );
        assert_eq!(parse_fields(" ").unwrap(), vec![]);
        assert_eq!(parse_field(" id ").unwrap().position, 1);
        assert_eq!(
            positioned(parse_fields("id,,email"), Some("fields")),
            (
                3,
                "expected a field name, found nothing (is there an extra comma?)".into()
            )
        );
        assert_eq!(
            positioned(parse_fields("id,user name"), Some("fields")).0,
            7
        );
        assert_eq!(positioned(parse_fields("id:desc"), Some("fields")).0, 2);
        assert_eq!(positioned(parse_field(""), Some("fields")).0, 0);
    }
}
