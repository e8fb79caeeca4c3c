//! The parameter form of a query (docs/reference/queries.md, Parameter form): (name, value) string
//! pairs as a query string carries them, read into a [`RawQuery`].
//!
//! The reserved names are matched exactly as docs/reference/queries.md spells them: `page`,
//! `pageSize`, `offset`, `limit`, `cursor`, `sort`, `fields`, `search`,
//! `where`, `withTotal`. Any other name is a field filter, and so is
//! `filter[name]` whatever `name` is. Errors name the parameter at fault in
//! `field`; values from parameters carry no position.

use super::ast::{CompareOp, Expr, FieldFilter, Literal, Paging, RawQuery, Value};
use super::lexer::{self, in_field};
use super::number::Misfit;
use super::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use super::parser::{parse_expr, parse_fields, parse_sort};
use crate::{Error, QueryCode, Result};

/// The reserved parameter names, as docs/reference/queries.md spells them; any other name is a
/// field filter.
pub const RESERVED_NAMES: [&str; 10] = [
    "page",
    "pageSize",
    "offset",
    "limit",
    "cursor",
    "sort",
    "fields",
    "search",
    "where",
    "withTotal",
];

/// What comes before `:` in a field filter's value, and the test it makes.
const PREFIXES: [(&str, Option<CompareOp>); 8] = [
    ("in", None),
    ("like", Some(CompareOp::Like)),
    ("eq", Some(CompareOp::Eq)),
    ("ne", Some(CompareOp::Ne)),
    ("gt", Some(CompareOp::Gt)),
    ("ge", Some(CompareOp::Ge)),
    ("lt", Some(CompareOp::Lt)),
    ("le", Some(CompareOp::Le)),
];

/// Reads a query in the parameter form.
///
/// - `page` (≥ 1) and `pageSize` (1–1000), or `offset` (≥ 0) and `limit`
///   (1–1000), or `cursor` with at most one of `pageSize` and `limit` as its
///   page size; mixing the styles is an error naming the later parameter.
///   A missing page is 1, offset 0, size 100. Numbers beyond a range are
///   refused as out of range (with the range), text that is no whole
///   number as not a number.
/// - with `cursor`, the other parts (`where`, `search`, field filters,
///   `sort`, `fields`) may be left out or given unchanged: the query checks
///   them against the cursor's when it runs (docs/reference/queries.md).
/// - `sort`, `fields`: comma lists ([`parse_sort`], [`parse_fields`]); blank
///   is as if not given.
/// - `search`, `where`: blank is as if not given; `where` errors carry the
///   position in its text.
/// - `withTotal`: `true` or `false`, in any case.
/// - any other name, or `filter[name]`: a field filter on the path `name`.
///   The value `in:a,b` is any of the texts, `like:p` a pattern, `eq:v`,
///   `ne:v`, `gt:v`, `ge:v`, `lt:v`, `le:v` that comparison (prefixes in any
///   case); any other value, colons and all, equals the whole text. Values
///   are [`Literal::Text`] for the checker to read by the field's type.
///
/// Each reserved name may be given once; a field may be filtered several
/// times. `where` goes to [`RawQuery::filter`], the field filters, in the
/// order given, to [`RawQuery::field_filters`]; all of them are ANDed.
/// A blank `where` counts as given once but adds no filter.
///
/// ```
/// use rosterdb::internals::ast::Paging;
/// use rosterdb::internals::params::parse_params;
///
/// let query = parse_params(&[
///     ("lastName", "in:Smith,Jones"),
///     ("createdAt", "ge:2014-01-15"),
///     ("sort", "lastName,firstName:desc"),
///     ("page", "2"),
/// ])?;
/// assert_eq!(query.paging, Paging::Page { page: 2, size: 100 });
/// assert_eq!(query.sort.len(), 2);
/// # Ok::<(), rosterdb::Error>(())
/// ```
pub fn parse_params<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Result<RawQuery> {
    let mut reader = Reader::default();
    for (name, value) in pairs {
        reader.read(name.as_ref(), value.as_ref())?;
    }
    Ok(reader.finish())
}

/// The parameters read so far.
#[derive(Default)]
struct Reader {
    query: RawQuery,
    /// The reserved names given so far.
    seen: Vec<&'static str>,
    page: Option<u64>,
    page_size: Option<usize>,
    offset: Option<u64>,
    limit: Option<usize>,
    cursor: Option<String>,
}

impl Reader {
    fn read(&mut self, name: &str, value: &str) -> Result<()> {
        let Some(&reserved) = RESERVED_NAMES.iter().find(|&&r| r == name) else {
            self.query.field_filters.push(FieldFilter {
                param: name.to_owned(),
                test: field_filter(name, value)?,
            });
            return Ok(());
        };
        if self.seen.contains(&reserved) {
            return Err(param_error(
                QueryCode::DuplicateParameter,
                reserved,
                format!("{reserved} is given more than once"),
            ));
        }
        if let Some(other) = self.seen.iter().find(|&&other| clash(reserved, other)) {
            return Err(param_error(
                QueryCode::ConflictingParameters,
                reserved,
                clash_message(reserved, other),
            ));
        }
        self.seen.push(reserved);
        match reserved {
            "page" => self.page = Some(whole_number(reserved, value, 1, u64::MAX)?),
            "pageSize" => self.page_size = Some(page_size(reserved, value)?),
            "offset" => self.offset = Some(whole_number(reserved, value, 0, u64::MAX)?),
            "limit" => self.limit = Some(page_size(reserved, value)?),
            "cursor" if value.is_empty() => {
                return Err(param_error(
                    QueryCode::InvalidCursor,
                    reserved,
                    "cursor is empty",
                ));
            }
            "cursor" => self.cursor = Some(value.to_owned()),
            "sort" => self.query.sort = parse_sort(value)?,
            "fields" if value.trim().is_empty() => {}
            "fields" => self.query.fields = Some(parse_fields(value)?),
            "search" if value.trim().is_empty() => {}
            "search" => self.query.search = Some(value.to_owned()),
            "where" => self.query.filter = parse_expr(value).map_err(|e| in_field(e, reserved))?,
            // The one reserved name left: withTotal.
            _ => self.query.with_total = Some(boolean(reserved, value)?),
        }
        Ok(())
    }

    fn finish(mut self) -> RawQuery {
        self.query.paging = if let Some(token) = self.cursor.take() {
            Paging::Cursor {
                token,
                size: self.page_size.or(self.limit),
            }
        } else if self.offset.is_some() || self.limit.is_some() {
            Paging::Offset {
                offset: self.offset.unwrap_or(0),
                limit: self.limit.unwrap_or(DEFAULT_PAGE_SIZE),
            }
        } else if self.page.is_some() || self.page_size.is_some() {
            Paging::Page {
                page: self.page.unwrap_or(1),
                size: self.page_size.unwrap_or(DEFAULT_PAGE_SIZE),
            }
        } else {
            Paging::Default
        };
        self.query
    }
}

/// Whether two paging parameters may not be given together.
fn clash(a: &str, b: &str) -> bool {
    let style = |name: &str| match name {
        "page" | "pageSize" => Some("page"),
        "offset" | "limit" => Some("offset"),
        "cursor" => Some("cursor"),
        _ => None,
    };
    match (style(a), style(b)) {
        (Some("cursor"), _) => matches!(b, "page" | "offset"),
        (_, Some("cursor")) => matches!(a, "page" | "offset"),
        (Some(x), Some(y)) => x != y,
        _ => false,
    }
}

fn clash_message(name: &str, other: &str) -> String {
    if name == "cursor" || other == "cursor" {
        format!(
            "{name} cannot be given with {other}: a cursor says where the page starts, \
             and only pageSize or limit may come with it to set its size"
        )
    } else {
        format!(
            "{name} cannot be given with {other}: page with page and pageSize, \
             or with offset and limit"
        )
    }
}

/// A filter on the field `name` (or `filter[name]`) by the parameter value.
fn field_filter(name: &str, value: &str) -> Result<Expr> {
    if name.is_empty() {
        return Err(Error::query(
            QueryCode::InvalidParameter,
            "a parameter has an empty name",
        ));
    }
    let (field, base) = match name
        .strip_prefix("filter[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        Some(inner) => (inner, "filter[".len()),
        None => (name, 0),
    };
    let path = lexer::path(field, base).map_err(|e| in_field(e, name))?;
    let text = |text: &str| Value {
        literal: Literal::Text(text.to_owned()),
        position: None,
    };
    let prefixed = value.split_once(':').and_then(|(prefix, rest)| {
        PREFIXES
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(prefix))
            .map(|&(_, op)| (op, rest))
    });
    Ok(match prefixed {
        Some((Some(op), rest)) => Expr::Compare {
            path,
            op,
            value: text(rest),
        },
        Some((None, rest)) => Expr::In {
            values: any_of(name, rest)?.into_iter().map(text).collect(),
            path,
        },
        None => Expr::Compare {
            path,
            op: CompareOp::Eq,
            value: text(value),
        },
    })
}

/// The comma-separated items of an `in:` value: at least one, none blank.
fn any_of<'a>(name: &str, list: &'a str) -> Result<Vec<&'a str>> {
    if list.is_empty() {
        return Err(param_error(
            QueryCode::InvalidParameter,
            name,
            "in: needs at least one value, as in in:a,b,c",
        ));
    }
    let items: Vec<&str> = list.split(',').collect();
    if let Some(index) = items.iter().position(|item| item.is_empty()) {
        return Err(param_error(
            QueryCode::InvalidParameter,
            name,
            format!("in: has an empty value at item {}", index.saturating_add(1)),
        ));
    }
    Ok(items)
}

/// A decimal whole number from `min` to `max`: ASCII digits (leading zeros
/// allowed), or `-` and digits for a number below the range.
fn whole_number(name: &str, value: &str, min: u64, max: u64) -> Result<u64> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(number_error(name, Misfit::NotANumber, min, max));
    }
    let zero = digits.bytes().all(|b| b == b'0');
    match digits.parse::<u64>() {
        _ if negative && !zero => Err(number_error(name, Misfit::TooSmall, min, max)),
        Ok(n) if n < min => Err(number_error(name, Misfit::TooSmall, min, max)),
        Ok(n) if n <= max => Ok(n),
        // Only digits, so the parse fails only by overflow.
        _ => Err(number_error(name, Misfit::TooLarge, min, max)),
    }
}

/// A page size (`pageSize`, `limit`): a decimal whole number from 1 to [`MAX_PAGE_SIZE`].
fn page_size(name: &str, value: &str) -> Result<usize> {
    let n = whole_number(name, value, 1, MAX_PAGE_SIZE as u64)?;
    usize::try_from(n).map_err(|_| number_error(name, Misfit::TooLarge, 1, MAX_PAGE_SIZE as u64))
}

/// An `InvalidQuery` naming the paging parameter `name` whose value does
/// not fit `min..=max`, saying which way and giving the range.
pub(crate) fn number_error(name: &str, misfit: Misfit, min: u64, max: u64) -> Error {
    let what = match misfit {
        Misfit::NotANumber | Misfit::NotWhole => "is not a whole number",
        Misfit::TooSmall => "is out of range (too small)",
        Misfit::TooLarge => "is out of range (too large)",
    };
    param_error(
        QueryCode::InvalidPaging,
        name,
        format!("{name} {what}: it must be a whole number from {min} to {max}"),
    )
}

/// `true` or `false`, in any case.
fn boolean(name: &str, value: &str) -> Result<bool> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(param_error(
            QueryCode::InvalidParameter,
            name,
            format!("{name} must be true or false"),
        ))
    }
}

/// An `InvalidQuery` naming the parameter `name`, with no position.
fn param_error(code: QueryCode, name: &str, message: impl Into<String>) -> Error {
    Error::query(code, message).for_field(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::ast::{Path, SortKey};

    fn parse(pairs: &[(&str, &str)]) -> RawQuery {
        parse_params(pairs).unwrap_or_else(|e| panic!("{pairs:?}: {e}"))
    }

    /// The (field, position, message) of the error reading `pairs` gives.
    fn param_err(pairs: &[(&str, &str)]) -> (Option<String>, Option<usize>, String) {
        match parse_params(pairs) {
            Err(Error::InvalidQuery {
                message,
                position,
                field,
                ..
            }) => (field, position, message),
            other => panic!("{pairs:?}: expected InvalidQuery, got {other:?}"),
        }
    }

    fn assert_rejects(pairs: &[(&str, &str)], field: &str, message: &str) {
        let (got_field, _, got_message) = param_err(pairs);
        assert_eq!(
            got_field.as_deref(),
            Some(field),
            "{pairs:?}: {got_message}"
        );
        assert!(
            got_message.contains(message),
            "{pairs:?}: {got_message:?} lacks {message:?}"
        );
    }

    /// Asserts that `name` rejects each of `values` with `message`.
    fn assert_rejects_each(name: &str, values: &[&str], message: &str) {
        for value in values {
            assert_rejects(&[(name, value)], name, message);
        }
    }

    fn paging(pairs: &[(&str, &str)]) -> Paging {
        parse(pairs).paging
    }

    fn path(text: &str, position: usize) -> Path {
        Path {
            segments: text.split('.').map(str::to_owned).collect(),
            position,
        }
    }

    fn text(s: &str) -> Value {
        Value {
            literal: Literal::Text(s.to_owned()),
            position: None,
        }
    }

    fn cmp(field: &str, op: CompareOp, value: &str) -> Expr {
        Expr::Compare {
            path: path(field, 0),
            op,
            value: text(value),
        }
    }

    /// The one filter `pairs` make: their `where` or their one field filter.
    fn filter(pairs: &[(&str, &str)]) -> Option<Expr> {
        let query = parse(pairs);
        match (query.filter, query.field_filters.as_slice()) {
            (where_, []) => where_,
            (None, [one]) => Some(one.test.clone()),
            other => panic!("{pairs:?}: more than one filter: {other:?}"),
        }
    }

    #[test]
    fn nothing_given() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(parse_params(&none).unwrap(), RawQuery::default());
        // Owned pairs work too.
        let owned = vec![(String::from("page"), String::from("3"))];
        assert_eq!(
            parse_params(&owned).unwrap().paging,
            Paging::Page { page: 3, size: 100 }
        );
    }

    #[test]
    fn page_style() {
        assert_eq!(
            paging(&[("page", "2")]),
            Paging::Page { page: 2, size: 100 }
        );
        assert_eq!(
            paging(&[("pageSize", "25")]),
            Paging::Page { page: 1, size: 25 }
        );
        assert_eq!(
            paging(&[("pageSize", "1000"), ("page", "7")]),
            Paging::Page {
                page: 7,
                size: 1000
            }
        );
        assert_eq!(
            paging(&[("page", "18446744073709551615")]),
            Paging::Page {
                page: u64::MAX,
                size: 100
            }
        );
    }

    #[test]
    fn offset_style() {
        assert_eq!(
            paging(&[("offset", "0")]),
            Paging::Offset {
                offset: 0,
                limit: 100
            }
        );
        assert_eq!(
            paging(&[("limit", "1")]),
            Paging::Offset {
                offset: 0,
                limit: 1
            }
        );
        assert_eq!(
            paging(&[("offset", "40"), ("limit", "20")]),
            Paging::Offset {
                offset: 40,
                limit: 20
            }
        );
    }

    #[test]
    fn cursor_style() {
        assert_eq!(
            paging(&[("cursor", "abc")]),
            Paging::Cursor {
                token: "abc".into(),
                size: None
            }
        );
        assert_eq!(
            paging(&[("pageSize", "5"), ("cursor", "abc")]),
            Paging::Cursor {
                token: "abc".into(),
                size: Some(5)
            }
        );
        assert_eq!(
            paging(&[("cursor", "abc"), ("limit", "7")]),
            Paging::Cursor {
                token: "abc".into(),
                size: Some(7)
            }
        );
        assert_rejects(&[("cursor", "")], "cursor", "cursor is empty");
    }

    #[test]
    fn page_sizes_are_bounded() {
        for name in ["pageSize", "limit"] {
            let bad = [
                "0",
                "1001",
                "-1",
                "",
                " 5",
                "5 ",
                "1e2",
                "+5",
                "٣",
                "99999999999999999999",
            ];
            assert_rejects_each(name, &bad, "it must be a whole number from 1 to 1000");
            for (good, size) in [("1", 1), ("1000", 1000), ("0100", 100)] {
                let got = paging(&[(name, good)]);
                let expected = if name == "limit" {
                    Paging::Offset {
                        offset: 0,
                        limit: size,
                    }
                } else {
                    Paging::Page { page: 1, size }
                };
                assert_eq!(got, expected);
            }
        }
    }

    #[test]
    fn page_and_offset_are_bounded() {
        for (name, min) in [("page", 1), ("offset", 0)] {
            let message = |what: &str| {
                format!(
                    "{name} is {what}: it must be a whole number from {min} to {}",
                    u64::MAX
                )
            };
            let too_small: &[&str] = if min == 1 {
                &["0", "-1", "-00"]
            } else {
                &["-1"]
            };
            assert_rejects_each(name, too_small, &message("out of range (too small)"));
            assert_rejects_each(
                name,
                &["-18446744073709551616"],
                &message("out of range (too small)"),
            );
            assert_rejects_each(
                name,
                &["18446744073709551616", "99999999999999999999999"],
                &message("out of range (too large)"),
            );
            assert_rejects_each(
                name,
                &["", "x", "1.0", "1e3", "+1", " 1", "-", "٣"],
                &message("not a whole number"),
            );
        }
        assert_eq!(
            paging(&[("offset", "18446744073709551615")]),
            Paging::Offset {
                offset: u64::MAX,
                limit: 100
            }
        );
        assert_eq!(
            paging(&[("offset", "-0")]),
            Paging::Offset {
                offset: 0,
                limit: 100
            }
        );
    }

    #[test]
    fn page_sizes_say_which_way_they_miss() {
        for name in ["pageSize", "limit"] {
            let message =
                |what: &str| format!("{name} is {what}: it must be a whole number from 1 to 1000");
            assert_rejects_each(name, &["0", "-5"], &message("out of range (too small)"));
            assert_rejects_each(
                name,
                &["1001", "18446744073709551616"],
                &message("out of range (too large)"),
            );
            assert_rejects_each(name, &["ten", "5.0"], &message("not a whole number"));
        }
    }

    #[test]
    fn mixing_paging_styles_names_the_later_parameter() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("page", "1"), ("offset", "0")], "offset"),
            (&[("offset", "0"), ("page", "1")], "page"),
            (&[("pageSize", "10"), ("limit", "10")], "limit"),
            (&[("limit", "10"), ("pageSize", "10")], "pageSize"),
            (&[("page", "2"), ("limit", "10")], "limit"),
            (&[("offset", "2"), ("pageSize", "10")], "pageSize"),
            (&[("cursor", "c"), ("page", "2")], "page"),
            (&[("page", "2"), ("cursor", "c")], "cursor"),
            (&[("cursor", "c"), ("offset", "2")], "offset"),
            (&[("offset", "2"), ("cursor", "c")], "cursor"),
            (
                &[("cursor", "c"), ("pageSize", "2"), ("limit", "2")],
                "limit",
            ),
        ];
        for &(pairs, field) in cases {
            assert_rejects(pairs, field, "cannot be given with");
        }
        assert_rejects(
            &[("page", "1"), ("offset", "0")],
            "offset",
            "offset cannot be given with page",
        );
        assert_rejects(
            &[("cursor", "c"), ("page", "2")],
            "page",
            "only pageSize or limit may come with it",
        );
    }

    #[test]
    fn reserved_names_may_not_repeat() {
        for name in RESERVED_NAMES {
            let value = match name {
                "withTotal" => "true",
                "cursor" | "sort" | "fields" | "search" => "x",
                "where" => "x pr",
                _ => "1",
            };
            assert_rejects(
                &[(name, value), (name, value)],
                name,
                &format!("{name} is given more than once"),
            );
        }
        // Blank values count as given.
        assert_rejects(
            &[("where", ""), ("where", "a pr")],
            "where",
            "more than once",
        );
    }

    #[test]
    fn reserved_names_are_case_sensitive() {
        // `PageSize` is not `pageSize`: it filters a field of that name.
        assert_eq!(
            filter(&[("PageSize", "10")]),
            Some(cmp("PageSize", CompareOp::Eq, "10"))
        );
        assert_eq!(paging(&[("PageSize", "10")]), Paging::Default);
    }

    #[test]
    fn sort_and_fields() {
        let query = parse(&[
            ("sort", "lastName,firstName:desc"),
            ("fields", "id, username"),
        ]);
        assert_eq!(
            query.sort,
            vec![
                SortKey {
                    path: path("lastName", 0),
                    descending: false
                },
                SortKey {
                    path: path("firstName", 9),
                    descending: true
                },
            ]
        );
        assert_eq!(query.fields, Some(vec![path("id", 0), path("username", 4)]));
        assert_eq!(parse(&[("sort", ""), ("fields", " ")]), RawQuery::default());
        let (field, position, _) = param_err(&[("sort", "a,:desc")]);
        assert_eq!((field.as_deref(), position), (Some("sort"), Some(2)));
        let (field, position, _) = param_err(&[("fields", "id,a b")]);
        assert_eq!((field.as_deref(), position), (Some("fields"), Some(4)));
    }

    #[test]
    fn search() {
        assert_eq!(
            parse(&[("search", " ann  smith ")]).search.as_deref(),
            Some(" ann  smith ")
        );
        assert_eq!(parse(&[("search", "")]).search, None);
        assert_eq!(parse(&[("search", " \t ")]).search, None);
    }

    #[test]
    fn with_total() {
        for (value, expected) in [("true", true), ("TRUE", true), ("False", false)] {
            assert_eq!(parse(&[("withTotal", value)]).with_total, Some(expected));
        }
        assert_eq!(parse(&[("page", "1")]).with_total, None);
        assert_rejects_each(
            "withTotal",
            &["", "yes", "1", " true"],
            "withTotal must be true or false",
        );
    }

    #[test]
    fn where_expressions() {
        assert_eq!(
            filter(&[("where", "enabled = true")]),
            Some(Expr::Compare {
                path: path("enabled", 0),
                op: CompareOp::Eq,
                value: Value {
                    literal: Literal::Bool(true),
                    position: Some(10)
                },
            })
        );
        assert_eq!(filter(&[("where", "  ")]), None);
        let (field, position, message) = param_err(&[("where", "a = 1 and (b pr")]);
        assert_eq!(field.as_deref(), Some("where"));
        assert_eq!(position, Some(15));
        assert!(message.contains("not closed"), "{message}");
    }

    #[test]
    fn plain_values_are_equality_on_the_whole_text() {
        let cases = [
            ("username", "ann", "ann"),
            ("createdAt", "2014-01-15T10:00:00Z", "2014-01-15T10:00:00Z"),
            ("note", "http://x", "http://x"),
            ("note", "inx:y", "inx:y"),
            ("note", ":eq", ":eq"),
            ("note", "", ""),
            ("enabled", "true", "true"),
            ("nickname", "null", "null"),
            ("note", " eq:x", " eq:x"),
        ];
        for (name, value, operand) in cases {
            assert_eq!(
                filter(&[(name, value)]),
                Some(cmp(name, CompareOp::Eq, operand)),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn operator_prefixes() {
        use CompareOp::*;
        let cases = [
            ("like:a%b", Like, "a%b"),
            ("eq:x", Eq, "x"),
            ("ne:x", Ne, "x"),
            ("gt:5", Gt, "5"),
            ("ge:2014-01-15T10:00:00Z", Ge, "2014-01-15T10:00:00Z"),
            ("lt:", Lt, ""),
            ("le:a:b", Le, "a:b"),
            ("EQ:x", Eq, "x"),
            ("Like:%", Like, "%"),
            ("eq:in:a,b", Eq, "in:a,b"),
        ];
        for (value, op, operand) in cases {
            assert_eq!(
                filter(&[("f", value)]),
                Some(cmp("f", op, operand)),
                "{value}"
            );
        }
    }

    #[test]
    fn in_lists() {
        let any = |values: &[&str]| Expr::In {
            path: path("roles", 0),
            values: values.iter().map(|v| text(v)).collect(),
        };
        assert_eq!(
            filter(&[("roles", "in:1,2,3")]),
            Some(any(&["1", "2", "3"]))
        );
        assert_eq!(filter(&[("roles", "IN:7")]), Some(any(&["7"])));
        assert_eq!(filter(&[("roles", "in:a:b, c")]), Some(any(&["a:b", " c"])));
        assert_rejects(&[("roles", "in:")], "roles", "in: needs at least one value");
        assert_rejects(&[("roles", "in:1,,2")], "roles", "empty value at item 2");
        assert_rejects(&[("roles", "in:1,")], "roles", "empty value at item 2");
        assert_rejects(&[("filter[roles]", "in:,")], "filter[roles]", "item 1");
    }

    #[test]
    fn field_names() {
        assert_eq!(
            filter(&[("attributes.department", "R&D")]),
            Some(cmp("attributes.department", CompareOp::Eq, "R&D"))
        );
        // `filter[name]` is `name`; its path starts inside the brackets.
        assert_eq!(
            filter(&[("filter[attributes.city]", "Oslo")]),
            Some(Expr::Compare {
                path: path("attributes.city", 7),
                op: CompareOp::Eq,
                value: text("Oslo"),
            })
        );
        // The alias reaches fields named like reserved parameters.
        assert_eq!(
            filter(&[("filter[page]", "3")]),
            Some(Expr::Compare {
                path: path("page", 7),
                op: CompareOp::Eq,
                value: text("3"),
            })
        );
        for bad in [
            "a+b",
            "a-b",
            "a b",
            "a.",
            "1a",
            "filter[]",
            "filter[a",
            "filter[a]]",
            "é!",
        ] {
            let (field, _, message) = param_err(&[(bad, "x")]);
            assert_eq!(field.as_deref(), Some(bad), "{bad}: {message}");
        }
        assert_eq!(
            param_err(&[("", "x")]),
            (None, None, "a parameter has an empty name".to_owned())
        );
    }

    #[test]
    fn field_filters_keep_their_order_and_names_apart_from_where() {
        let query = parse(&[
            ("lastName", "Smith"),
            ("pageSize", "10"),
            ("where", "a pr"),
            ("lastName", "ne:Jones"),
            ("filter[lastName]", "like:S%"),
        ]);
        assert_eq!(query.filter, Some(Expr::Present(path("a", 0))));
        let field_filter = |param: &str, test: Expr| FieldFilter {
            param: param.to_owned(),
            test,
        };
        assert_eq!(
            query.field_filters,
            vec![
                field_filter("lastName", cmp("lastName", CompareOp::Eq, "Smith")),
                field_filter("lastName", cmp("lastName", CompareOp::Ne, "Jones")),
                field_filter(
                    "filter[lastName]",
                    Expr::Compare {
                        path: path("lastName", 7),
                        op: CompareOp::Like,
                        value: text("S%"),
                    }
                ),
            ]
        );
        assert_eq!(query.paging, Paging::Page { page: 1, size: 10 });
        // A blank `where` adds nothing (but counts as given).
        assert_eq!(parse(&[("where", " "), ("x", "1")]).filter, None);
    }

    #[test]
    fn errors_display_their_field() {
        let err = parse_params(&[("pageSize", "0")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid query: pageSize is out of range (too small): it must be a whole number \
             from 1 to 1000 (field pageSize)"
        );
        let err = parse_params(&[("where", "a = ")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid query: expected a value after '=', found the end of the input \
             (at position 4, field where)"
        );
    }
}
