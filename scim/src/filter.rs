//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a lexer and
//! a parser to a tree whose every test carries its character position, so
//! that errors can name it.

use serde_json::Value;

use crate::error::ScimError;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn from_word(word: &str) -> Option<Op> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    /// The operator's keyword, as the rosterdb expression language takes it.
    pub fn word(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Co => "co",
            Op::Sw => "sw",
            Op::Ew => "ew",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }
}

/// An attribute path as written: `attr` or `attr.sub`, without its URN
/// prefix (stripped by the caller's resource type).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AttrPath {
    pub attr: String,
    pub sub: Option<String>,
    /// Character position of the path in the text.
    pub position: usize,
}

/// A filter tree.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Filter {
    /// Every one of two or more filters.
    And(Vec<Filter>),
    /// Any of two or more filters.
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        path: AttrPath,
        op: Op,
        value: Value,
    },
    Present(AttrPath),
    /// `attr[filter]`: some value of the multi-valued `attr` matches
    /// `filter`, whose paths name its sub-attributes.
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Str(String),
}

/// Splits `text` into tokens with their character positions.
fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ScimError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0_usize;
    while let Some(&c) = chars.get(i) {
        let start = i;
        match c {
            c if c.is_whitespace() => {
                i = i.saturating_add(1);
                continue;
            }
            '(' => out.push((Tok::Open, start)),
            ')' => out.push((Tok::Close, start)),
            '[' => out.push((Tok::OpenBracket, start)),
            ']' => out.push((Tok::CloseBracket, start)),
            '"' => {
                // A JSON string: find its closing quote, then let serde read the escapes.
                let mut j = start.saturating_add(1);
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(ScimError::invalid_filter(
                                start,
                                "unterminated string".into(),
                            ));
                        }
                        Some('\\') => j = j.saturating_add(2),
                        Some('"') => break,
                        Some(_) => j = j.saturating_add(1),
                    }
                }
                let literal: String = chars.get(start..=j).unwrap_or_default().iter().collect();
                let value: String = serde_json::from_str(&literal).map_err(|_| {
                    ScimError::invalid_filter(start, "malformed string literal".into())
                })?;
                out.push((Tok::Str(value), start));
                i = j;
            }
            _ => {
                let mut j = start;
                while let Some(&c) = chars.get(j) {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    j = j.saturating_add(1);
                }
                let word: String = chars.get(start..j).unwrap_or_default().iter().collect();
                out.push((Tok::Word(word), start));
                i = j.saturating_sub(1);
            }
        }
        i = i.saturating_add(1);
    }
    Ok(out)
}

/// Reads a filter; `strip` removes a resource type's schema URN from an
/// attribute path.
pub(crate) fn parse(text: &str, strip: &dyn Fn(&str) -> String) -> Result<Filter, ScimError> {
    let tokens = lex(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
        end: text.chars().count(),
        strip,
    };
    if parser.tokens.is_empty() {
        return Err(ScimError::invalid_filter(0, "the filter is empty".into()));
    }
    let filter = parser.or()?;
    match parser.peek() {
        None => Ok(filter),
        Some((_, pos)) => Err(ScimError::invalid_filter(
            pos,
            "expected 'and', 'or' or the end of the filter".into(),
        )),
    }
}

/// A PATCH path (RFC 7644 §3.5.2): `attrPath`, or `attr[filter]` with an
/// optional `.sub` after it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PatchPath {
    pub attr: String,
    pub filter: Option<Filter>,
    pub sub: Option<String>,
}

/// Reads a PATCH path.
pub(crate) fn parse_path(
    text: &str,
    strip: &dyn Fn(&str) -> String,
) -> Result<PatchPath, ScimError> {
    let bad = |message: &str| ScimError::invalid_path(format!("{message} in path {text:?}"));
    let (head, rest) = match text.find('[') {
        Some(open) => (text.get(..open).unwrap_or(""), text.get(open..)),
        None => (text, None),
    };
    let path = split_path(&strip(head.trim()), 0).ok_or_else(|| bad("a malformed attribute"))?;
    let Some(rest) = rest else {
        return Ok(PatchPath {
            attr: path.attr,
            filter: None,
            sub: path.sub,
        });
    };
    if path.sub.is_some() {
        return Err(bad("a value filter after a sub-attribute"));
    }
    let close = rest.rfind(']').ok_or_else(|| bad("an unclosed '['"))?;
    let inner = rest.get(1..close).unwrap_or("");
    let filter = parse(inner, &|p: &str| p.to_owned()).map_err(|e| bad(&e.detail))?;
    let after = rest.get(close.saturating_add(1)..).unwrap_or("").trim();
    let sub = match after {
        "" => None,
        after => {
            let sub = after
                .strip_prefix('.')
                .ok_or_else(|| bad("text after ']'"))?;
            if sub.is_empty()
                || !sub
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '-')
            {
                return Err(bad("a malformed sub-attribute"));
            }
            Some(sub.to_owned())
        }
    };
    Ok(PatchPath {
        attr: path.attr,
        filter: Some(filter),
        sub,
    })
}

/// `attr` or `attr.sub` (names of letters, digits, `_`, `-`, `$`).
fn split_path(text: &str, position: usize) -> Option<AttrPath> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$'))
    };
    let mut parts = text.split('.');
    let attr = parts.next().filter(|a| ok(a))?;
    let sub = match parts.next() {
        None => None,
        Some(sub) if ok(sub) => Some(sub.to_owned()),
        Some(_) => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(AttrPath {
        attr: attr.to_owned(),
        sub,
        position,
    })
}

/// How deeply parentheses, `not` and value filters may nest: the
/// compiled expression nests at most about three times as deep, within
/// rosterdb's own limit of 64.
pub const MAX_DEPTH: usize = 16;

struct Parser<'s> {
    tokens: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
    end: usize,
    strip: &'s dyn Fn(&str) -> String,
}

impl Parser<'_> {
    fn peek(&self) -> Option<(&Tok, usize)> {
        self.tokens.get(self.at).map(|(t, p)| (t, *p))
    }

    fn next(&mut self) -> Option<(Tok, usize)> {
        let token = self.tokens.get(self.at).cloned();
        self.at = self.at.saturating_add(1);
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some((Tok::Word(w), _)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Filter, ScimError> {
        let mut terms = vec![self.and()?];
        while self.keyword("or") {
            self.at = self.at.saturating_add(1);
            terms.push(self.and()?);
        }
        Ok(match terms.len() {
            1 => terms.remove(0),
            _ => Filter::Or(terms),
        })
    }

    fn and(&mut self) -> Result<Filter, ScimError> {
        let mut terms = vec![self.unary()?];
        while self.keyword("and") {
            self.at = self.at.saturating_add(1);
            terms.push(self.unary()?);
        }
        Ok(match terms.len() {
            1 => terms.remove(0),
            _ => Filter::And(terms),
        })
    }

    /// Runs `inner` one nesting level deeper (a parenthesis, `not` or a
    /// value filter), refusing to go past [`MAX_DEPTH`].
    fn deeper(
        &mut self,
        position: usize,
        inner: impl FnOnce(&mut Self) -> Result<Filter, ScimError>,
    ) -> Result<Filter, ScimError> {
        if self.depth >= MAX_DEPTH {
            return Err(ScimError::invalid_filter(
                position,
                format!("the filter nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.depth = self.depth.saturating_add(1);
        let out = inner(self);
        self.depth = self.depth.saturating_sub(1);
        out
    }

    fn unary(&mut self) -> Result<Filter, ScimError> {
        if self.keyword("not") {
            let position = self.peek().map_or(self.end, |(_, p)| p);
            self.at = self.at.saturating_add(1);
            return match self.peek() {
                Some((Tok::Open, _)) => {
                    self.deeper(position, |p| Ok(Filter::Not(Box::new(p.unary()?))))
                }
                found => Err(self.expected("'(' after 'not'", found.map(|(_, p)| p))),
            };
        }
        match self.next() {
            Some((Tok::Open, position)) => self.deeper(position, |p| p.parenthesized()),
            Some((Tok::Word(word), pos)) => self.test(&word, pos),
            Some((_, pos)) => Err(self.expected("an attribute path", Some(pos))),
            None => Err(self.expected("an attribute path", None)),
        }
    }

    /// The rest of `( filter )` after its `(`.
    fn parenthesized(&mut self) -> Result<Filter, ScimError> {
        let inner = self.or()?;
        match self.next() {
            Some((Tok::Close, _)) => Ok(inner),
            found => Err(self.expected("')'", found.map(|(_, p)| p))),
        }
    }

    fn expected(&self, what: &str, position: Option<usize>) -> ScimError {
        let position = position.unwrap_or(self.end);
        let found = if position >= self.end {
            "the end of the filter"
        } else {
            "something else"
        };
        ScimError::invalid_filter(position, format!("expected {what}, found {found}"))
    }

    fn path(&self, word: &str, pos: usize) -> Result<AttrPath, ScimError> {
        split_path(&(self.strip)(word), pos).ok_or_else(|| {
            ScimError::invalid_filter(pos, format!("{word:?} is not an attribute path"))
        })
    }

    fn test(&mut self, word: &str, pos: usize) -> Result<Filter, ScimError> {
        if let Some((Tok::OpenBracket, open)) = self.peek() {
            self.at = self.at.saturating_add(1);
            let attr = self.path(word, pos)?;
            return self.deeper(open, |p| {
                let filter = p.or()?;
                match p.next() {
                    Some((Tok::CloseBracket, _)) => Ok(Filter::ValuePath {
                        attr,
                        filter: Box::new(filter),
                    }),
                    found => Err(p.expected("']'", found.map(|(_, p)| p))),
                }
            });
        }
        let path = self.path(word, pos)?;
        let (op_word, op_pos) = match self.next() {
            Some((Tok::Word(w), p)) => (w, p),
            found => return Err(self.expected("an operator", found.map(|(_, p)| p))),
        };
        if op_word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = Op::from_word(&op_word) else {
            return Err(ScimError::invalid_filter(
                op_pos,
                format!("{op_word:?} is not an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"),
            ));
        };
        let value = match self.next() {
            Some((Tok::Str(s), _)) => Value::String(s),
            Some((Tok::Word(w), p)) => literal(&w).ok_or_else(|| {
                ScimError::invalid_filter(
                    p,
                    format!("{w:?} is not a value (a quoted string, number, true, false or null)"),
                )
            })?,
            found => return Err(self.expected("a value", found.map(|(_, p)| p))),
        };
        Ok(Filter::Compare { path, op, value })
    }
}

/// `true`, `false`, `null` or a JSON number.
fn literal(word: &str) -> Option<Value> {
    match word.to_ascii_lowercase().as_str() {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        "null" => Some(Value::Null),
        _ => serde_json::from_str::<serde_json::Number>(word)
            .ok()
            .map(Value::Number),
    }
}

/// Whether `element` (a value of a multi-valued complex attribute, or a
/// simple value, whose sub-attribute is then `value`) matches `filter`;
/// strings compare case-insensitively.
pub(crate) fn matches(filter: &Filter, element: &Value) -> bool {
    match filter {
        Filter::And(all) => all.iter().all(|f| matches(f, element)),
        Filter::Or(any) => any.iter().any(|f| matches(f, element)),
        Filter::Not(a) => !matches(a, element),
        Filter::Present(path) => {
            sub_value(element, path).is_some_and(|v| !v.is_null() && v != &Value::Array(vec![]))
        }
        Filter::Compare { path, op, value } => {
            sub_value(element, path).is_some_and(|actual| compare(actual, *op, value))
        }
        Filter::ValuePath { .. } => false,
    }
}

/// The sub-attribute a path in a value filter names, in `element`.
fn sub_value<'v>(element: &'v Value, path: &AttrPath) -> Option<&'v Value> {
    match element {
        Value::Object(map) => {
            let found = map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&path.attr))
                .map(|(_, v)| v)?;
            match &path.sub {
                None => Some(found),
                Some(sub) => found
                    .as_object()?
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(sub))
                    .map(|(_, v)| v),
            }
        }
        simple if path.attr.eq_ignore_ascii_case("value") && path.sub.is_none() => Some(simple),
        _ => None,
    }
}

fn compare(actual: &Value, op: Op, expected: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering = match (actual, expected) {
        (Value::String(a), Value::String(b)) => {
            let (a, b) = (a.to_lowercase(), b.to_lowercase());
            match op {
                Op::Co => return a.contains(&b),
                Op::Sw => return a.starts_with(&b),
                Op::Ew => return a.ends_with(&b),
                _ => a.cmp(&b),
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            match a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(a, b)| a.partial_cmp(&b))
            {
                Some(o) => o,
                None => return false,
            }
        }
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (a, Value::Null) => {
            return match op {
                Op::Eq => a.is_null(),
                Op::Ne => !a.is_null(),
                _ => false,
            };
        }
        _ => return op == Op::Ne,
    };
    match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
        Op::Co | Op::Sw | Op::Ew => false,
    }
}
