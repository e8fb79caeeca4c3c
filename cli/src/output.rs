//! Printing documents on stdout as JSON, JSON Lines or an aligned table,
//! and notes on stderr.

use std::io::{BufWriter, IsTerminal, StdoutLock, Write};

use serde_json::{Map, Value};
use unicode_width::UnicodeWidthStr;

use crate::args::Format;
use crate::exit::CliError;

/// Where a command prints: stdout (buffered) in one format, and whether
/// notes go to stderr.
pub struct Out {
    format: Format,
    quiet: bool,
    stdout: BufWriter<StdoutLock<'static>>,
}

impl Out {
    /// Prints in `format`, or for a command of single documents (`many`
    /// false) JSON, for one of many (`list`, `changes`) a table when
    /// stdout is a terminal and JSON Lines when it is not.
    pub fn new(format: Option<Format>, many: bool, quiet: bool) -> Out {
        let stdout = std::io::stdout();
        let format = format.unwrap_or(match (many, stdout.is_terminal()) {
            (false, _) => Format::Json,
            (true, true) => Format::Table,
            (true, false) => Format::Jsonl,
        });
        Out {
            format,
            quiet,
            stdout: BufWriter::new(stdout.lock()),
        }
    }

    /// The format documents are printed in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Prints one document (a table of two columns: field and value).
    pub fn doc(&mut self, doc: &Value) -> Result<(), CliError> {
        match self.format {
            Format::Json => writeln!(self.stdout, "{}", pretty(doc))?,
            Format::Jsonl => writeln!(self.stdout, "{doc}")?,
            Format::Table => {
                let rows: Vec<Vec<String>> = match doc {
                    Value::Object(map) => map
                        .iter()
                        .map(|(k, v)| vec![k.clone(), cell(Some(v))])
                        .collect(),
                    other => vec![vec![String::new(), cell(Some(other))]],
                };
                self.table(&["field".into(), "value".into()], &rows)?;
            }
        }
        self.flush()
    }

    /// Prints a page of documents: with JSON, the object `{items, total?,
    /// nextCursor?}`; otherwise the items (JSON Lines or a table of
    /// `columns`, else of every top-level field in first-seen order), and
    /// the total and next cursor as notes on stderr.
    pub fn page(
        &mut self,
        items: &[Value],
        columns: Option<&[&str]>,
        total: Option<u64>,
        next_cursor: Option<&str>,
    ) -> Result<(), CliError> {
        match self.format {
            Format::Json => {
                let mut page = Map::new();
                page.insert("items".into(), Value::Array(items.to_vec()));
                if let Some(total) = total {
                    page.insert("total".into(), total.into());
                }
                if let Some(cursor) = next_cursor {
                    page.insert("nextCursor".into(), cursor.into());
                }
                writeln!(self.stdout, "{}", pretty(&Value::Object(page)))?;
            }
            Format::Jsonl | Format::Table => {
                self.items(items, columns, true)?;
                if let Some(total) = total {
                    self.note(&format!("total: {total}"));
                }
                if let Some(cursor) = next_cursor {
                    self.note(&format!("more: --cursor {cursor}"));
                }
            }
        }
        self.flush()
    }

    /// Prints documents as JSON Lines or table rows (with a header when
    /// `header`); a table without `columns` shows every top-level field.
    pub fn items(
        &mut self,
        items: &[Value],
        columns: Option<&[&str]>,
        header: bool,
    ) -> Result<(), CliError> {
        match self.format {
            Format::Json | Format::Jsonl => {
                for item in items {
                    writeln!(self.stdout, "{item}")?;
                }
            }
            Format::Table => {
                let names: Vec<String> = match columns {
                    Some(columns) => columns.iter().map(|c| (*c).to_owned()).collect(),
                    None => top_level_fields(items),
                };
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|item| names.iter().map(|n| cell(item.get(n))).collect())
                    .collect();
                if header {
                    self.table(&names, &rows)?;
                } else {
                    self.table(&[], &rows)?;
                }
            }
        }
        Ok(())
    }

    /// Prints text as it is (a plan, a line).
    pub fn text(&mut self, text: &str) -> Result<(), CliError> {
        writeln!(self.stdout, "{}", text.trim_end())?;
        self.flush()
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> Result<(), CliError> {
        self.stdout.flush()?;
        Ok(())
    }

    /// Tells `text` on stderr, unless quiet.
    pub fn note(&self, text: &str) {
        note(self.quiet, text);
    }

    /// Prints rows under a header (none when `header` is empty), each
    /// column as wide as its widest cell.
    fn table(&mut self, header: &[String], rows: &[Vec<String>]) -> Result<(), CliError> {
        let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(cell.width()),
                    None => widths.push(cell.width()),
                }
            }
        }
        if !header.is_empty() {
            self.row(header, &widths)?;
        }
        for row in rows {
            self.row(row, &widths)?;
        }
        Ok(())
    }

    fn row(&mut self, cells: &[String], widths: &[usize]) -> Result<(), CliError> {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if i.saturating_add(1) < cells.len() {
                let width = widths.get(i).copied().unwrap_or(0);
                line.extend(std::iter::repeat_n(' ', width.saturating_sub(cell.width())));
            }
        }
        writeln!(self.stdout, "{}", line.trim_end())?;
        Ok(())
    }
}

/// Tells `text` on stderr, unless `quiet`.
pub fn note(quiet: bool, text: &str) {
    if !quiet {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// Pretty JSON text of a value.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The top-level fields of `items`, in the order first seen.
fn top_level_fields(items: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for item in items {
        if let Value::Object(map) = item {
            for key in map.keys() {
                if !names.iter().any(|n| n == key) {
                    names.push(key.clone());
                }
            }
        }
    }
    names
}

/// A value as a table cell: a string as it is (control characters
/// escaped, so a row stays one line), nothing for an absent field, any
/// other value as compact JSON.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => printable(s),
        // JSON escapes C0 controls but not C1 (U+0080–U+009F, e.g. the
        // 8-bit CSI U+009B that some terminals obey) in nested strings.
        Some(other) => printable(&other.to_string()),
    }
}

/// `text` with every control character escaped (`\n`, `\u{9b}`), so a
/// cell is one line and cannot drive the terminal.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_are_one_line_and_absent_is_blank() {
        assert_eq!(cell(Some(&json!("a\tb\nc"))), "a\\tb\\nc");
        assert_eq!(cell(None), "");
        assert_eq!(cell(Some(&json!(null))), "");
        assert_eq!(cell(Some(&json!([1, 2]))), "[1,2]");
        assert_eq!(cell(Some(&json!(true))), "true");
    }

    #[test]
    fn no_control_character_reaches_the_terminal_raw() {
        assert_eq!(cell(Some(&json!("a\u{9b}31m"))), "a\\u{9b}31m");
        let nested = cell(Some(&json!({"k": "\u{1b}]0;t\u{7}\u{9b}2J"})));
        assert!(!nested.chars().any(char::is_control), "{nested}");
        assert_eq!(nested, r#"{"k":"\u001b]0;t\u0007\u{9b}2J"}"#);
    }

    #[test]
    fn top_level_fields_keep_first_seen_order() {
        let items = [json!({"id": 1, "b": 2}), json!({"id": 2, "a": 1, "b": 3})];
        assert_eq!(top_level_fields(&items), ["id", "b", "a"]);
    }
}
