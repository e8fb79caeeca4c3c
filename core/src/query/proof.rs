//! Conditions that a plan's candidates meet by construction, so that no
//! record needs to be read to check them: a short substring (`co`, a
//! `like` without wildcards, a `search` of short terms) whose trigram
//! postings hold exactly its matches.
//!
//! The trigram index holds, for each text field, the trigrams of the
//! field's folded text followed by two [`END`] markers (`storage::index`).
//! A needle of one to three folded characters stands for the trigrams it
//! starts (`access::trigram_all`), and a record holds one of them exactly
//! when the needle occurs in its padded folded text. When the needle holds
//! no marker (nor U+0000, which key encoding escapes), every occurrence
//! lies inside the folded text itself, since the padding is nothing but
//! markers; and every occurrence in the text starts a trigram of the padded
//! text. So holding the trigram *is* matching: `fold(value)` contains the
//! needle, which is what the pattern and `search` check on a record
//! (`pattern`, `eval`). A longer needle stands for the intersection of its
//! trigrams, which can all occur apart: it proves nothing.

use super::access::{Access, access};
use super::check::{Field, Filter, MatchKind};
use super::pattern::Case;
use super::physical::{AccessPath, PhysicalPlan};
use super::schema::FieldType;
use crate::EntityKind;
use crate::storage::index::{END, trigram_index};

/// The longest needle (in folded characters) whose trigram postings hold
/// exactly its matches.
const LONGEST_PROVEN: usize = 3;

/// The filter a plan's records must still be checked against: its filter
/// without the conjuncts that its candidates meet by construction (each
/// one answered exactly by trigram postings that the candidates' access
/// intersects). `None` when nothing is left to check.
pub(crate) fn residual(plan: &PhysicalPlan) -> Option<Filter> {
    let filter = plan.filter.as_ref()?;
    let candidates = match &plan.access {
        AccessPath::Candidates { access, .. } | AccessPath::IndexIds { access, .. } => access,
        _ => return Some(filter.clone()),
    };
    let held = parts(candidates);
    let mut left: Vec<Filter> = Vec::new();
    let mut proven = false;
    for conjunct in conjuncts(filter) {
        let enforced = exact_in_trigrams(plan.kind, conjunct)
            && access(plan.kind, conjunct)
                .is_some_and(|own| parts(&own).iter().all(|p| held.contains(p)));
        if enforced {
            proven = true;
        } else {
            left.push(conjunct.clone());
        }
    }
    if !proven {
        return Some(filter.clone());
    }
    match left.len() {
        0 => None,
        1 => left.pop(),
        _ => Some(Filter::And(left)),
    }
}

/// Whether the trigram access of one condition (`access::access`) holds
/// exactly the records that meet it: a substring match on a text field, or
/// a `search`, whose every needle is short enough to be proven by the
/// trigrams it starts (see the module documentation).
pub(crate) fn exact_in_trigrams(kind: EntityKind, filter: &Filter) -> bool {
    let Some((_, fields)) = trigram_index(kind) else {
        return false;
    };
    match filter {
        Filter::Match {
            field: Field::Def(def),
            kind: MatchKind::Contains | MatchKind::Like,
            pattern,
        } => {
            pattern.case() == Case::Folded
                && def.ty == FieldType::Str
                && fields.contains(&def.name)
                && pattern.substring().is_some_and(|needle| provable(&needle))
        }
        Filter::Search(terms) => {
            // With a term of two or more characters the planner leaves out
            // the one-character terms: then those are not in the access.
            let long = terms.iter().any(|t| t.chars().nth(1).is_some());
            !terms.is_empty()
                && terms
                    .iter()
                    .all(|t| provable(t) && !(long && t.chars().nth(1).is_none()))
        }
        _ => false,
    }
}

/// Whether a folded needle is proven by the trigrams it starts: one to
/// [`LONGEST_PROVEN`] characters, none of them an [`END`] marker or U+0000.
fn provable(needle: &str) -> bool {
    let n = needle.chars().count();
    (1..=LONGEST_PROVEN).contains(&n) && !needle.chars().any(|c| c == END || c == '\0')
}

/// The conjuncts of a filter.
fn conjuncts(filter: &Filter) -> Vec<&Filter> {
    match filter {
        Filter::And(parts) => parts.iter().flat_map(conjuncts).collect(),
        other => vec![other],
    }
}

/// The accesses an access intersects (itself, when it is no intersection).
fn parts(access: &Access) -> Vec<&Access> {
    match access {
        Access::All(inner) => inner.iter().flat_map(parts).collect(),
        other => vec![other],
    }
}
