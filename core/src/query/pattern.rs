//! `like`, `co`, `sw` and `ew` patterns, matched against case-folded text
//! (or, for identifiers such as `tenant`, against the exact text).

use super::check::MatchKind;
use crate::rules::fold;

/// One element of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// These characters, in order (already case-folded).
    Text(Vec<char>),
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters, the empty one included.
    Any,
}

/// How a pattern compares characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// On the case-folded text (SPEC §2.5): every string field.
    Folded,
    /// On the exact text: identifiers (`tenant`).
    Exact,
}

/// A text pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
    case: Case,
}

impl Pattern {
    /// The pattern of `like`, `co`, `sw` or `ew` with this text, comparing
    /// characters as `case` says. A `like` pattern: `%` any run, `_` one
    /// character, `\` makes the next character literal (a trailing `\` is
    /// itself); with no unescaped wildcard it matches as a substring (SPEC
    /// §13). `co`, `sw` and `ew` take their text literally.
    pub fn new(kind: MatchKind, text: &str, case: Case) -> Pattern {
        match kind {
            MatchKind::Like => Pattern::like_in(text, case),
            MatchKind::Contains => Pattern::literal(text, true, true, case),
            MatchKind::StartsWith => Pattern::literal(text, false, true, case),
            MatchKind::EndsWith => Pattern::literal(text, true, false, case),
        }
    }

    fn like_in(pattern: &str, case: Case) -> Pattern {
        let mut tokens = Vec::new();
        let mut text = String::new();
        let mut wildcard = false;
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => text.push(chars.next().unwrap_or('\\')),
                '%' | '_' => {
                    wildcard = true;
                    push_text(&mut tokens, &mut text, case);
                    tokens.push(if c == '%' { Token::Any } else { Token::One });
                }
                _ => text.push(c),
            }
        }
        push_text(&mut tokens, &mut text, case);
        if !wildcard {
            tokens.insert(0, Token::Any);
            tokens.push(Token::Any);
        }
        Pattern { tokens, case }
    }

    fn literal(text: &str, any_before: bool, any_after: bool, case: Case) -> Pattern {
        let mut tokens = Vec::new();
        if any_before {
            tokens.push(Token::Any);
        }
        let mut text = text.to_owned();
        push_text(&mut tokens, &mut text, case);
        if any_after {
            tokens.push(Token::Any);
        }
        Pattern { tokens, case }
    }

    /// How the pattern compares characters.
    pub fn case(&self) -> Case {
        self.case
    }

    /// Whether `value` matches (in any case, unless the pattern is [`Case::Exact`]).
    pub fn matches(&self, value: &str) -> bool {
        let chars: Vec<char> = match self.case {
            Case::Folded => fold(value).chars().collect(),
            Case::Exact => value.chars().collect(),
        };
        let flat: Vec<&Token> = self.tokens.iter().collect();
        matches_from(&flat, &chars)
    }

    /// The text every match starts with (case-folded unless the pattern is
    /// [`Case::Exact`]), when the pattern is exactly "this text, then
    /// anything" (`sw`, or `like 'abc%'`).
    pub fn prefix(&self) -> Option<String> {
        match self.tokens.as_slice() {
            [Token::Text(chars), Token::Any] => Some(chars.iter().collect()),
            _ => None,
        }
    }

    /// The literal runs of the pattern (between wildcards; case-folded
    /// unless [`Case::Exact`]): every matching value contains each of them.
    pub fn literal_runs(&self) -> Vec<String> {
        self.tokens
            .iter()
            .filter_map(|t| match t {
                Token::Text(chars) => Some(chars.iter().collect()),
                _ => None,
            })
            .collect()
    }
}

fn push_text(tokens: &mut Vec<Token>, text: &mut String, case: Case) {
    if !text.is_empty() {
        tokens.push(Token::Text(match case {
            Case::Folded => fold(text).chars().collect(),
            Case::Exact => text.chars().collect(),
        }));
        text.clear();
    }
}

/// Wildcard matching with one backtracking point per `%` (linear in practice).
fn matches_from(tokens: &[&Token], value: &[char]) -> bool {
    // Expand to single-character steps: Some(c) literal, None one-any, and stars.
    let mut steps: Vec<Step> = Vec::new();
    for token in tokens {
        match token {
            Token::Text(chars) => steps.extend(chars.iter().map(|&c| Step::Char(c))),
            Token::One => steps.push(Step::One),
            Token::Any => steps.push(Step::Any),
        }
    }
    let (mut s, mut v) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        match steps.get(s) {
            Some(Step::Char(c)) if *c == value[v] => {
                s += 1;
                v += 1;
            }
            Some(Step::One) => {
                s += 1;
                v += 1;
            }
            Some(Step::Any) => {
                star = Some((s, v));
                s += 1;
            }
            _ => match star {
                Some((star_s, star_v)) => {
                    s = star_s + 1;
                    v = star_v + 1;
                    star = Some((star_s, star_v + 1));
                }
                None => return false,
            },
        }
    }
    steps[s..].iter().all(|step| *step == Step::Any)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Char(char),
    One,
    Any,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The case-folded patterns of every string field.
    impl Pattern {
        fn like(pattern: &str) -> Pattern {
            Pattern::new(MatchKind::Like, pattern, Case::Folded)
        }
        fn contains(text: &str) -> Pattern {
            Pattern::new(MatchKind::Contains, text, Case::Folded)
        }
        fn starts_with(text: &str) -> Pattern {
            Pattern::new(MatchKind::StartsWith, text, Case::Folded)
        }
        fn ends_with(text: &str) -> Pattern {
            Pattern::new(MatchKind::EndsWith, text, Case::Folded)
        }
    }

    #[test]
    fn like_wildcards_and_escapes() {
        let cases = [
            ("a%", "Alice", true),
            ("a%", "bAlice", false),
            ("%ice", "ALICE", true),
            ("a_ice", "alice", true),
            ("a_ice", "aice", false),
            ("a%e", "ae", true),
            ("%", "", true),
            ("_", "", false),
            ("lic", "Alice", true), // no wildcard: substring
            ("LIC", "alice", true),
            ("zz", "alice", false),
            ("100\\%", "100%", true),
            ("100\\%", "1000", false),
            ("a\\_b", "a_b", true),
            ("a\\_b", "axb", false),
            ("a\\\\b", "a\\b", true),
            ("end\\", "the end\\", true),
            ("%a%b%c%", "xaxbxcx", true),
            ("%a%b%c%", "xcxbxax", false),
            ("Zoë%", "zoëlla", true),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(
                Pattern::like(pattern).matches(value),
                expected,
                "{pattern} ~ {value}"
            );
        }
    }

    #[test]
    fn co_sw_ew_are_literal() {
        assert!(Pattern::contains("%x").matches("a%xb"));
        assert!(!Pattern::contains("%x").matches("axb"));
        assert!(Pattern::starts_with("AL").matches("alice"));
        assert!(!Pattern::starts_with("li").matches("alice"));
        assert!(Pattern::ends_with("CE").matches("alice"));
        assert!(!Pattern::ends_with("al").matches("alice"));
        assert!(Pattern::contains("").matches("anything"));
    }

    #[test]
    fn prefixes_are_recognised() {
        assert_eq!(Pattern::like("Ho%").prefix().as_deref(), Some("ho"));
        assert_eq!(Pattern::starts_with("Ho").prefix().as_deref(), Some("ho"));
        assert_eq!(Pattern::like("Ho%r").prefix(), None);
        assert_eq!(Pattern::like("Ho").prefix(), None); // a substring match
        assert_eq!(Pattern::like("%Ho%").prefix(), None);
    }

    #[test]
    fn literal_runs_are_folded() {
        assert_eq!(Pattern::like("Ab%cD_e").literal_runs(), ["ab", "cd", "e"]);
        assert_eq!(Pattern::contains("XY").literal_runs(), ["xy"]);
    }
}
