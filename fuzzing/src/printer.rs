//! An expression's syntax tree written back as expression text (docs/reference/queries.md,
//! Expression form), for the `expr` target's round trip: [`print()`] of a tree the parser made
//! parses back to the same tree (positions aside).
//!
//! Parentheses are written only where the tree needs them (an `or` inside
//! an `and`, a chain inside a chain of its own kind, a chain under `not`),
//! each of which the parsed text must also have had: the printed text
//! nests no deeper than its source, so it stays within the parser's depth
//! limit.

use rosterdb::internals::ast::{CompareOp, Expr, Literal, Path, Value};

/// `expr` as expression text.
pub fn print(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

/// Where an expression is written, which decides its parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// The whole expression or an operand of `or`.
    Loose,
    /// An operand of `and`.
    And,
    /// The operand of `not`.
    Not,
}

fn write_expr(out: &mut String, expr: &Expr) {
    write_in(out, expr, Context::Loose, false);
}

/// Writes `expr` in `context`; `in_or` says the enclosing chain is an `or`
/// (so an `or` operand is a nested chain of its own kind).
fn write_in(out: &mut String, expr: &Expr, context: Context, in_or: bool) {
    match expr {
        Expr::And(parts) => {
            let wrap = context != Context::Loose;
            chain(out, parts, " and ", wrap, Context::And, false);
        }
        Expr::Or(parts) => {
            let wrap = context != Context::Loose || in_or;
            chain(out, parts, " or ", wrap, Context::Loose, true);
        }
        Expr::Not(part) => {
            out.push_str("not ");
            write_in(out, part, Context::Not, false);
        }
        Expr::Compare { path, op, value } => {
            write_path(out, path);
            out.push(' ');
            out.push_str(op_text(*op));
            out.push(' ');
            write_value(out, value);
        }
        Expr::In { path, values } => {
            write_path(out, path);
            out.push_str(" in (");
            for (n, value) in values.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                write_value(out, value);
            }
            out.push(')');
        }
        Expr::Present(path) => {
            write_path(out, path);
            out.push_str(" pr");
        }
        Expr::IsNull(path) => {
            write_path(out, path);
            out.push_str(" is null");
        }
    }
}

/// Writes the operands of an `and` or `or` chain joined by `separator`.
fn chain(
    out: &mut String,
    parts: &[Expr],
    separator: &str,
    wrap: bool,
    context: Context,
    in_or: bool,
) {
    if wrap {
        out.push('(');
    }
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            out.push_str(separator);
        }
        // An `and` operand that is itself an `and` chain came from parentheses.
        let nested_and = context == Context::And && matches!(part, Expr::And(_));
        if nested_and {
            out.push('(');
            write_in(out, part, Context::Loose, false);
            out.push(')');
        } else {
            write_in(out, part, context, in_or);
        }
    }
    if wrap {
        out.push(')');
    }
}

fn op_text(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "!=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Like => "like",
        CompareOp::Co => "co",
        CompareOp::Sw => "sw",
        CompareOp::Ew => "ew",
    }
}

fn write_path(out: &mut String, path: &Path) {
    out.push_str(&path.segments.join("."));
}

fn write_value(out: &mut String, value: &Value) {
    match &value.literal {
        Literal::Str(text) | Literal::Text(text) => write_string(out, text),
        Literal::Num(number) => out.push_str(&number.to_string()),
        Literal::Bool(true) => out.push_str("true"),
        Literal::Bool(false) => out.push_str("false"),
        Literal::Null => out.push_str("null"),
    }
}

/// A string literal: `'…'` with quotes doubled, or a JSON string when it
/// holds control characters.
fn write_string(out: &mut String, text: &str) {
    if text.chars().any(char::is_control) {
        match serde_json::to_string(text) {
            Ok(json) => out.push_str(&json),
            Err(e) => crate::violated(format!("a string as JSON: {e}")),
        }
    } else {
        out.push('\'');
        out.push_str(&text.replace('\'', "''"));
        out.push('\'');
    }
}
