//! Sort keys (docs/reference/queries.md, Parameter form): strings ordered case-folded then exact
//! (identifiers, `tenant`, exactly: docs/reference/documents.md), absent first ascending and last
//! descending, `id` always the final ascending tie-breaker.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::check::Field;
use super::eval::{as_number, number_cmp, read};
use super::schema::FieldType;
use crate::Timestamp;
use crate::documents::caseless::fold;
use crate::documents::json::Json;
use crate::documents::values::{FieldValue, Queryable};

/// One sort key's value for one record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SortValue {
    /// Absent (or `null` inside `attributes`): first ascending.
    Absent,
    /// A boolean: false < true.
    Bool(bool),
    /// An integer field.
    Int(u64),
    /// A timestamp, in milliseconds.
    Time(i64),
    /// A number inside `attributes` (an integer, or a float's bits).
    Num(NumKey),
    /// A string: case-folded, then exact.
    Str(String, String),
    /// An identifier (`tenant`): exact, by its characters.
    Ident(String),
    /// An array or object inside `attributes`, by its JSON text.
    Other(String),
}

/// A JSON number as a sortable key.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum NumKey {
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
}

impl SortValue {
    fn rank(&self) -> u8 {
        match self {
            SortValue::Absent => 0,
            SortValue::Bool(_) => 1,
            SortValue::Int(_) | SortValue::Time(_) | SortValue::Num(_) => 2,
            SortValue::Str(..) | SortValue::Ident(_) => 3,
            SortValue::Other(_) => 4,
        }
    }

    /// The total order of sort values.
    pub fn order(&self, other: &SortValue) -> Ordering {
        match (self, other) {
            (SortValue::Bool(a), SortValue::Bool(b)) => a.cmp(b),
            (SortValue::Int(a), SortValue::Int(b)) => a.cmp(b),
            (SortValue::Time(a), SortValue::Time(b)) => a.cmp(b),
            (SortValue::Num(a), SortValue::Num(b)) => number_cmp(a.num(), b.num()),
            (SortValue::Str(af, ae), SortValue::Str(bf, be)) => af.cmp(bf).then_with(|| ae.cmp(be)),
            (SortValue::Ident(a), SortValue::Ident(b)) => a.cmp(b),
            (SortValue::Other(a), SortValue::Other(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }

    /// The sort value of `field` in `record`, folding a text through
    /// `memo`: records read in sort order repeat their sort text in runs
    /// (every user of one last name), and folding text beyond ASCII is
    /// most of what positioning them costs.
    pub(crate) fn remembering(
        field: &Field,
        record: &impl Queryable,
        now: Timestamp,
        memo: &mut FoldMemo,
    ) -> SortValue {
        match read(field, record, now) {
            FieldValue::Str(s) if matches!(field, Field::Def(def) if def.ty == FieldType::Ident) => {
                SortValue::Ident(s.to_owned())
            }
            FieldValue::Int(v) => SortValue::Int(v),
            FieldValue::Str(s) => SortValue::Str(memo.fold(s), s.to_owned()),
            FieldValue::Bool(b) => SortValue::Bool(b),
            FieldValue::Time(t) => SortValue::Time(t.as_millis()),
            FieldValue::Json(json) => match json {
                Json::Bool(b) => SortValue::Bool(*b),
                Json::Str(s) => SortValue::Str(memo.fold(s), s.clone()),
                Json::Arr(_) | Json::Obj(_) => SortValue::Other(json.to_value().to_string()),
                number => {
                    as_number(number).map_or(SortValue::Absent, |n| SortValue::Num(NumKey::from(n)))
                }
            },
            _ => SortValue::Absent,
        }
    }
}

/// The last text folded for one sort key, and its folded form.
#[derive(Debug, Default)]
pub(crate) struct FoldMemo {
    exact: String,
    folded: String,
}

impl FoldMemo {
    /// `fold(text)`, from the memo when `text` is the text it folded last.
    fn fold(&mut self, text: &str) -> String {
        if self.exact != text {
            self.folded = fold(text);
            text.clone_into(&mut self.exact);
        }
        self.folded.clone()
    }
}

impl NumKey {
    fn num(self) -> super::eval::Num {
        match self {
            NumKey::Int(i) => super::eval::Num::Int(i),
            NumKey::Float(f) => super::eval::Num::Float(f),
        }
    }
}

impl From<super::eval::Num> for NumKey {
    fn from(n: super::eval::Num) -> Self {
        match n {
            super::eval::Num::Int(i) => NumKey::Int(i),
            super::eval::Num::Float(f) => NumKey::Float(f),
        }
    }
}

/// A record's position in a sorted result: its key values and its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// One value per sort key.
    pub values: Vec<SortValue>,
    /// The record id, the final tie-breaker.
    pub id: u64,
}

/// Compares two positions under sort keys with the given directions.
pub fn compare(a: &Position, b: &Position, descending: &[bool]) -> Ordering {
    for ((x, y), desc) in a.values.iter().zip(&b.values).zip(descending) {
        let o = x.order(y);
        let o = if *desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

#[cfg(test)]
mod tests {
    use super::FoldMemo;
    use crate::documents::caseless::fold;

    #[test]
    fn a_fold_memo_folds_every_text_as_fold_does() {
        let mut memo = FoldMemo::default();
        let texts = [
            "Ärger",
            "Ärger",
            "STRASSE",
            "straße",
            "straße",
            "ΟΔΟΣ",
            "",
            "",
            "ａｄｍｉｎ",
            "Ärger",
        ];
        for text in texts {
            assert_eq!(memo.fold(text), fold(text), "{text:?}");
        }
    }
}
