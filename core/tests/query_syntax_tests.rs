//! Fuzz-style property tests of the two query front ends (docs/reference/queries.md, Parameter
//! form and Expression form; docs/reference/errors.md: no input, however
//! malformed, may panic).
//!
//! - Random bytes, token soups and parameter lists never panic: every call
//!   returns `Ok` or an `InvalidQuery` whose position lies within the input.
//! - Random well-formed filter trees, printed in randomly chosen but
//!   equivalent spellings (operator synonyms, keyword case, quoting, escapes,
//!   spacing, redundant parentheses), parse back to the same tree, with every
//!   position pointing at the part it belongs to.
//! - Random sort lists round-trip the same way.
//!
//! Failures proptest finds are kept in `tests/regressions/query_syntax_tests.txt`
//! and replayed first (`common/regressions.rs`).

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rosterdb::Error;
use rosterdb::internals::ast::{CompareOp, Expr, Literal, Path, SortKey, Value};
use rosterdb::internals::params::{RESERVED_NAMES, parse_params};
use rosterdb::internals::parser::{parse_expr, parse_fields, parse_sort, without_positions};
use serde_json::Number;

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "pr", "is", "null", "true", "false", "like", "eq", "ne", "gt", "ge",
    "lt", "le", "co", "sw", "ew",
];

/// Passes for `Ok` and for an `InvalidQuery` positioned within `max_position`;
/// fails for any other error.
fn check<T>(result: rosterdb::Result<T>, max_position: usize) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(Error::InvalidQuery {
            position, message, ..
        }) => {
            prop_assert!(!message.is_empty());
            if let Some(position) = position {
                prop_assert!(
                    position <= max_position,
                    "position {position} beyond {max_position}: {message}"
                );
            }
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "expected InvalidQuery, got {other:?}"
        ))),
    }
}

/// Every front end over one text.
fn check_all_front_ends(text: &str) -> Result<(), TestCaseError> {
    let chars = text.chars().count();
    check(parse_expr(text), chars)?;
    check(parse_sort(text), chars)?;
    check(parse_fields(text), chars)?;
    check(parse_params(&[("where", text)]), chars)?;
    check(parse_params(&[(text, text)]), chars)
}

// ---------------------------------------------------------------------------
// Token soups

/// `text` with each ASCII letter's case chosen by `upper`.
fn recase(text: &str, upper: &[bool]) -> String {
    text.chars()
        .zip(upper.iter().cycle())
        .map(|(c, &up)| {
            if up {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn keyword() -> impl Strategy<Value = String> {
    (
        prop::sample::select(KEYWORDS),
        prop::collection::vec(any::<bool>(), 1..6),
    )
        .prop_map(|(word, upper)| recase(word, &upper))
}

/// One piece of expression syntax, valid or broken.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => keyword(),
        3 => prop::sample::select(&["=", "!=", "<>", "<", "<=", ">", ">=", "!", "(", ")", ",", ".", ":", "-", "\\"][..])
            .prop_map(str::to_owned),
        3 => "[a-zA-Z_ßé][a-zA-Z0-9_é]{0,5}(\\.[a-zA-Z0-9_-]{0,3}){0,2}",
        2 => "'([^']|'')*'?",
        2 => "\"([^\"\\\\]|\\\\[\"\\\\/bfnrtux]|\\\\u[0-9a-fA-F]{0,4}|\\\\u[dD][89abAB][0-9a-fA-F]{2})*\"?",
        2 => "-?[0-9]{1,22}(\\.[0-9]{0,3})?([eE][+-]?[0-9]{0,4})?",
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|n| n.to_string()),
        1 => any::<char>().prop_map(String::from),
        1 => ".{0,3}",
    ]
}

fn spacing() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["", " ", " ", "  ", "\t", "\n", "\u{3000}"][..])
}

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec((token(), spacing()), 0..24).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(token, space)| format!("{token}{space}"))
            .collect()
    })
}

// ---------------------------------------------------------------------------
// Parameter lists

fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&RESERVED_NAMES[..]).prop_map(str::to_owned),
        1 => (prop::sample::select(&RESERVED_NAMES[..]), prop::collection::vec(any::<bool>(), 1..4))
            .prop_map(|(name, upper)| recase(name, &upper)),
        2 => "[a-zA-Z_][a-zA-Z0-9_]{0,6}(\\.[a-zA-Z0-9_]{1,4})?",
        2 => "filter\\[.{0,8}\\]?",
        1 => ".{0,8}",
    ]
}

fn param_value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "(in|like|eq|ne|gt|ge|lt|le|IN|Eq|x|)?:.{0,8}",
        2 => "[0-9]{0,5}",
        1 => "-?[0-9]{18,22}",
        1 => prop::sample::select(&["true", "FALSE", "yes", "", " "][..]).prop_map(str::to_owned),
        1 => "[a-zA-Z]{1,5}(:(asc|desc|DESC|up))?(, ?[a-zA-Z.]{0,5}(:desc)?){0,3}",
        2 => soup(),
        1 => ".{0,12}",
    ]
}

// ---------------------------------------------------------------------------
// Well-formed filters and a printer

/// A name that may start a path; one alone must not spell a keyword.
fn first_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_é中Ω][a-zA-Z0-9_éß]{0,6}"
}

fn path() -> impl Strategy<Value = Path> {
    (
        first_name(),
        // Later names may hold '-' after their first character (RFC 7643 §2.1).
        prop::collection::vec("[a-zA-Z0-9_é][a-zA-Z0-9_é-]{0,4}", 0..3),
    )
        .prop_filter("a lone keyword is not a path", |(first, rest)| {
            !rest.is_empty() || !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(first))
        })
        .prop_map(|(first, rest)| Path {
            segments: std::iter::once(first).chain(rest).collect(),
            position: 0,
        })
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<u64>().prop_map(Number::from),
        any::<i64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        (-1000.0..1000.0f64).prop_filter_map("finite", Number::from_f64),
    ]
}

fn literal(with_null: bool) -> BoxedStrategy<Literal> {
    let some = prop_oneof![
        3 => any::<String>().prop_map(Literal::Str),
        2 => "[a-z' \"\\\\/%_]{0,6}".prop_map(Literal::Str),
        2 => number().prop_map(Literal::Num),
        1 => any::<bool>().prop_map(Literal::Bool),
    ];
    if with_null {
        prop_oneof![5 => some, 1 => Just(Literal::Null)].boxed()
    } else {
        some.boxed()
    }
}

fn value(with_null: bool) -> impl Strategy<Value = Value> {
    literal(with_null).prop_map(|literal| Value {
        literal,
        position: None,
    })
}

const OPS: &[CompareOp] = &[
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Lt,
    CompareOp::Le,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Like,
    CompareOp::Co,
    CompareOp::Sw,
    CompareOp::Ew,
];

/// A test; `= null` and `!= null` are left out since they read back as presence tests.
fn leaf_test() -> impl Strategy<Value = Expr> {
    prop_oneof![
        4 => (path(), prop::sample::select(OPS), any::<bool>()).prop_flat_map(|(path, op, maybe_null)| {
            let with_null = maybe_null && !matches!(op, CompareOp::Eq | CompareOp::Ne);
            value(with_null).prop_map(move |value| Expr::Compare {
                path: path.clone(),
                op,
                value,
            })
        }),
        2 => (path(), prop::collection::vec(value(true), 1..4))
            .prop_map(|(path, values)| Expr::In { path, values }),
        1 => path().prop_map(Expr::Present),
        1 => path().prop_map(Expr::IsNull),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf_test().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            1 => inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            2 => prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            2 => prop::collection::vec(inner, 2..4).prop_map(Expr::Or),
        ]
    })
}

/// A tiny deterministic source of printing choices.
struct Choices(u64);

impl Choices {
    fn pick<'a, T: ?Sized>(&mut self, options: &[&'a T]) -> &'a T {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let n = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33;
        options[(n % options.len() as u64) as usize]
    }

    fn flip(&mut self) -> bool {
        *self.pick(&[&true, &false])
    }

    /// True one time in four.
    fn sometimes(&mut self) -> bool {
        *self.pick(&[&false, &false, &false, &true])
    }
}

/// Prints a filter in the expression form, choosing among equivalent spellings.
struct Printer {
    out: String,
    choices: Choices,
}

impl Printer {
    fn new(seed: u64) -> Self {
        Printer {
            out: String::new(),
            choices: Choices(seed | 1),
        }
    }

    fn space(&mut self) {
        let space = self
            .choices
            .pick(&[" ", " ", " ", "  ", "\t", "\n", "\u{3000}"]);
        self.out.push_str(space);
    }

    fn word(&mut self, word: &str) {
        let upper: Vec<bool> = (0..word.len()).map(|_| self.choices.flip()).collect();
        let word = match *self.choices.pick(&[&0, &1, &2]) {
            0 => word.to_owned(),
            1 => word.to_ascii_uppercase(),
            _ => recase(word, &upper),
        };
        self.out.push_str(&word);
    }

    /// A token between spaces.
    fn keyword(&mut self, word: &str) {
        self.space();
        self.word(word);
        self.space();
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Or(parts) => self.chain(parts, "or", |e| matches!(e, Expr::Or(_))),
            Expr::And(parts) => {
                self.chain(parts, "and", |e| matches!(e, Expr::Or(_) | Expr::And(_)))
            }
            Expr::Not(inner) => {
                self.word("not");
                self.space();
                self.maybe_grouped(inner, matches!(**inner, Expr::Or(_) | Expr::And(_)));
            }
            Expr::Compare { path, op, value } => {
                self.path(path);
                self.space();
                let spelling = match op {
                    CompareOp::Eq => self.choices.pick(&["=", "eq"]),
                    CompareOp::Ne => self.choices.pick(&["!=", "<>", "ne"]),
                    CompareOp::Lt => self.choices.pick(&["<", "lt"]),
                    CompareOp::Le => self.choices.pick(&["<=", "le"]),
                    CompareOp::Gt => self.choices.pick(&[">", "gt"]),
                    CompareOp::Ge => self.choices.pick(&[">=", "ge"]),
                    CompareOp::Like => "like",
                    CompareOp::Co => "co",
                    CompareOp::Sw => "sw",
                    CompareOp::Ew => "ew",
                };
                self.word(spelling);
                self.space();
                self.value(value);
            }
            Expr::In { path, values } => {
                self.path(path);
                self.keyword("in");
                self.out.push('(');
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                        self.space();
                    }
                    self.value(value);
                }
                self.out.push(')');
            }
            Expr::Present(path) => {
                self.path(path);
                self.space();
                let spelling =
                    self.choices
                        .pick(&["pr", "is not null", "!= null", "<> null", "ne null"]);
                self.word(spelling);
            }
            Expr::IsNull(path) => {
                self.path(path);
                self.space();
                let spelling = self.choices.pick(&["is null", "= null", "eq null"]);
                self.word(spelling);
            }
        }
    }

    /// Parts joined by `keyword`; a part for which `needs_parens` holds is grouped.
    fn chain(&mut self, parts: &[Expr], keyword: &str, needs_parens: fn(&Expr) -> bool) {
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                self.keyword(keyword);
            }
            self.maybe_grouped(part, needs_parens(part));
        }
    }

    /// `expr`, in parentheses when `needed`, and sometimes when not.
    fn maybe_grouped(&mut self, expr: &Expr, needed: bool) {
        let grouped = needed || self.choices.sometimes();
        if grouped {
            self.out.push('(');
            self.expr(expr);
            self.out.push(')');
        } else {
            self.expr(expr);
        }
    }

    fn path(&mut self, path: &Path) {
        self.out.push_str(&path.segments.join("."));
    }

    fn value(&mut self, value: &Value) {
        match &value.literal {
            Literal::Str(text) if self.choices.flip() => {
                self.out.push('\'');
                self.out.push_str(&text.replace('\'', "''"));
                self.out.push('\'');
            }
            Literal::Str(text) => self.json_string(text),
            Literal::Num(number) => self.out.push_str(&number.to_string()),
            Literal::Bool(b) => self.word(if *b { "true" } else { "false" }),
            Literal::Null => self.word("null"),
            Literal::Text(_) => unreachable!("the expression form has no untyped text"),
        }
    }

    /// A double-quoted JSON string, escaping some characters that need no escape.
    fn json_string(&mut self, text: &str) {
        self.out.push('"');
        for c in text.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\t' => self.out.push_str("\\t"),
                '/' if self.choices.flip() => self.out.push_str("\\/"),
                c if c < ' ' || self.choices.sometimes() => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        self.out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

/// Checks that every path and value position in `expr` points at its text in `chars`.
fn check_positions(expr: &Expr, chars: &[char]) -> Result<(), TestCaseError> {
    let path_at = |path: &Path| -> Result<(), TestCaseError> {
        let written: String = chars.iter().skip(path.position).collect();
        prop_assert!(
            written.starts_with(&path.segments.join(".")),
            "path {:?} not at {}",
            path.segments,
            path.position
        );
        Ok(())
    };
    let value_at = |value: &Value| -> Result<(), TestCaseError> {
        let Some(position) = value.position else {
            return Err(TestCaseError::fail("a value without a position"));
        };
        let first = chars
            .get(position)
            .copied()
            .unwrap_or('?')
            .to_ascii_lowercase();
        let expected = match value.literal {
            Literal::Str(_) => matches!(first, '\'' | '"'),
            Literal::Num(_) => first == '-' || first.is_ascii_digit(),
            Literal::Bool(b) => first == if b { 't' } else { 'f' },
            Literal::Null => first == 'n',
            Literal::Text(_) => false,
        };
        prop_assert!(
            expected,
            "{:?} not at {position} ({first:?})",
            value.literal
        );
        Ok(())
    };
    match expr {
        Expr::And(parts) | Expr::Or(parts) => {
            for part in parts {
                check_positions(part, chars)?;
            }
            Ok(())
        }
        Expr::Not(inner) => check_positions(inner, chars),
        Expr::Compare { path, value, .. } => {
            path_at(path)?;
            value_at(value)
        }
        Expr::In { path, values } => {
            path_at(path)?;
            values.iter().try_for_each(value_at)
        }
        Expr::Present(path) | Expr::IsNull(path) => path_at(path),
    }
}

proptest! {
    #![proptest_config(common::regressions::persisted(ProptestConfig::with_cases(400)))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..160)) {
        check_all_front_ends(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn random_text_never_panics(text in ".{0,60}") {
        check_all_front_ends(&text)?;
    }

    #[test]
    fn token_soups_never_panic(text in soup()) {
        check_all_front_ends(&text)?;
    }

    #[test]
    fn damaged_filters_never_panic(
        expr in expr(),
        seed in any::<u64>(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, token()), 1..4),
    ) {
        let mut printer = Printer::new(seed);
        printer.expr(&expr);
        let mut chars: Vec<char> = printer.out.chars().collect();
        for (at, kind, token) in damage {
            let at = at.index(chars.len() + 1);
            match kind {
                0 => chars.truncate(at),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ => {
                    chars.splice(at..at, token.chars());
                }
            }
        }
        check_all_front_ends(&chars.into_iter().collect::<String>())?;
    }

    #[test]
    fn parameter_lists_never_panic(
        pairs in prop::collection::vec((param_name(), param_value()), 0..6)
    ) {
        let max = pairs
            .iter()
            .flat_map(|(name, value)| [name.chars().count(), value.chars().count()])
            .max()
            .unwrap_or(0);
        check(parse_params(&pairs), max)?;
    }

    #[test]
    fn well_formed_filters_round_trip(expr in expr(), seed in any::<u64>()) {
        let mut printer = Printer::new(seed);
        printer.expr(&expr);
        let text = printer.out;
        let parsed = match parse_expr(&text) {
            Ok(Some(parsed)) => parsed,
            other => return Err(TestCaseError::fail(format!("{text:?} gives {other:?}"))),
        };
        prop_assert_eq!(without_positions(&parsed), without_positions(&expr), "printed as {:?}", text);
        let chars: Vec<char> = text.chars().collect();
        check_positions(&parsed, &chars)?;
    }

    #[test]
    fn well_formed_filters_parse_inside_where(expr in expr(), seed in any::<u64>()) {
        let mut printer = Printer::new(seed);
        printer.expr(&expr);
        let query = parse_params(&[("where", printer.out.as_str()), ("x", "in:1,2")])
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The where is the query's expression; the field filter stays apart
        // (both are ANDed when the query runs).
        let Some(parsed) = query.filter else {
            return Err(TestCaseError::fail("the where is lost"));
        };
        prop_assert_eq!(without_positions(&parsed), without_positions(&expr));
        prop_assert_eq!(query.field_filters.len(), 1);
        prop_assert_eq!(query.field_filters[0].param.as_str(), "x");
    }

    #[test]
    fn sort_lists_round_trip(
        keys in prop::collection::vec((path(), prop::option::of(any::<bool>())), 1..5),
        seed in any::<u64>(),
    ) {
        let mut choices = Choices(seed | 1);
        let mut text = String::new();
        let mut positions = Vec::new();
        for (i, (path, direction)) in keys.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(choices.pick(&["", " ", "\t"]));
            positions.push(text.chars().count());
            text.push_str(&path.segments.join("."));
            if let Some(descending) = direction {
                text.push_str(choices.pick(&["", " "]));
                text.push(':');
                text.push_str(if *descending {
                    choices.pick(&["desc", "DESC", "Desc"])
                } else {
                    choices.pick(&["asc", "ASC", "aSc"])
                });
            }
            text.push_str(choices.pick(&["", " "]));
        }
        let expected: Vec<SortKey> = keys
            .iter()
            .zip(&positions)
            .map(|((path, direction), &position)| SortKey {
                path: Path { segments: path.segments.clone(), position },
                descending: direction.unwrap_or(false),
            })
            .collect();
        prop_assert_eq!(parse_sort(&text).map_err(|e| TestCaseError::fail(e.to_string()))?, expected);
    }
}
