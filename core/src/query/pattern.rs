//! `like`, `co`, `sw` and `ew` patterns, matched against case-folded text
//! (or, for identifiers such as `tenant`, against the exact text).
//!
//! Both sides are compared in their canonical caseless form (`fold`,
//! docs/reference/documents.md, Caseless matching): each literal run of a pattern is folded on its
//! own, the value as a whole. Literal runs and `%` work on characters (Unicode scalar values) of
//! the folded value, as `co`, `sw` and `ew` do, so the trigram and prefix
//! indexes answer them; `_` is one user-perceived character: one whole
//! extended grapheme cluster of the folded value (UAX #29,
//! `unicode-segmentation`), so it matches only where a cluster starts.

use unicode_segmentation::UnicodeSegmentation;

use super::check::MatchKind;
use crate::documents::caseless::fold;

/// One element of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// These characters, in order (already case-folded).
    Text(Vec<char>),
    /// `_`: exactly one extended grapheme cluster.
    One,
    /// `%`: any run of characters, the empty one included.
    Any,
}

/// How a pattern compares characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// On the case-folded text (docs/reference/documents.md, Caseless matching): every string
    /// field.
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
    /// user-perceived character (an extended grapheme cluster of the
    /// compared value), `\` makes the next character literal (a trailing `\` is
    /// itself); with no unescaped wildcard it matches as a substring
    /// (docs/reference/queries.md, Semantics). `co`, `sw` and `ew` take their text literally.
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
        // A literal run with `%` on one side or both is found as a string
        // (a run of characters is where its UTF-8 is); an ASCII value, which
        // folds to its lowercase, without folding it.
        match self.tokens.as_slice() {
            [Token::Any, Token::Text(chars), Token::Any] => {
                return self.compare(value, chars, Place::Anywhere);
            }
            [Token::Text(chars), Token::Any] => return self.compare(value, chars, Place::Start),
            [Token::Any, Token::Text(chars)] => return self.compare(value, chars, Place::End),
            _ => {}
        }
        let compared = match self.case {
            Case::Folded => fold(value),
            Case::Exact => value.to_owned(),
        };
        let clusters = if self.tokens.contains(&Token::One) {
            cluster_lengths(&compared)
        } else {
            Vec::new()
        };
        let value: Vec<ValueChar> = compared
            .chars()
            .zip(clusters.into_iter().chain(std::iter::repeat(None)))
            .collect();
        matches_from(&self.tokens, &value)
    }

    /// Whether `value` (folded unless the pattern is [`Case::Exact`])
    /// holds the characters `chars` at `place`.
    fn compare(&self, value: &str, chars: &[char], place: Place) -> bool {
        let mut buf = [0; 4];
        let mut literal = Vec::with_capacity(chars.len().saturating_mul(2));
        for c in chars {
            literal.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        match self.case {
            Case::Exact => place.holds(value.as_bytes(), &literal, |b| b),
            Case::Folded if value.is_ascii() => {
                place.holds(value.as_bytes(), &literal, |b| b.to_ascii_lowercase())
            }
            Case::Folded => place.holds(fold(value).as_bytes(), &literal, |b| b),
        }
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

    /// The text every match contains and nothing more is asked of a match,
    /// when the pattern is exactly "anything, this (non-empty) text,
    /// anything" (`co`, or `like` without wildcards): case-folded unless
    /// the pattern is [`Case::Exact`].
    pub fn substring(&self) -> Option<String> {
        match self.tokens.as_slice() {
            [Token::Any, Token::Text(chars), Token::Any] => Some(chars.iter().collect()),
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

/// The pattern in `like` syntax (its literal runs as compared: folded
/// unless [`Case::Exact`]; `%`, `_` and the backslash in them escaped), so that
/// `like '<this>'` matches what the pattern matches.
impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for token in &self.tokens {
            match token {
                Token::Text(chars) => {
                    for c in chars {
                        if matches!(c, '%' | '_' | '\\') {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                }
                Token::One => f.write_str("_")?,
                Token::Any => f.write_str("%")?,
            }
        }
        Ok(())
    }
}

/// Where a literal run stands in a value.
#[derive(Clone, Copy)]
enum Place {
    /// Anywhere (`%run%`).
    Anywhere,
    /// At its start (`run%`).
    Start,
    /// At its end (`%run`).
    End,
}

impl Place {
    /// Whether the bytes `literal` stand at this place in `value`, each
    /// byte of `value` compared as `map` makes it.
    fn holds(self, value: &[u8], literal: &[u8], map: impl Fn(u8) -> u8) -> bool {
        let same = |part: &[u8]| part.iter().zip(literal).all(|(&v, &l)| map(v) == l);
        if literal.is_empty() {
            return true;
        }
        match self {
            Place::Anywhere => value.windows(literal.len()).any(same),
            Place::Start => value.get(..literal.len()).is_some_and(same),
            Place::End => value
                .len()
                .checked_sub(literal.len())
                .and_then(|from| value.get(from..))
                .is_some_and(same),
        }
    }
}

/// Whether the folded form of `value` (docs/reference/documents.md, Caseless matching) contains
/// `needle`, which is folded already: an ASCII value, which folds to its lowercase, is
/// compared without being folded.
pub(crate) fn folded_contains(value: &str, needle: &str) -> bool {
    if value.is_ascii() {
        Place::Anywhere.holds(value.as_bytes(), needle.as_bytes(), |b| {
            b.to_ascii_lowercase()
        })
    } else {
        fold(value).contains(needle)
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

/// One character of the compared value, with the length in characters of
/// the extended grapheme cluster that starts there (`None` inside one, and
/// for patterns without `_`, which do not need it).
type ValueChar = (char, Option<usize>);

/// For each character of `text`: the length in characters of the extended
/// grapheme cluster that starts there, or `None` inside a cluster.
fn cluster_lengths(text: &str) -> Vec<Option<usize>> {
    let mut lengths = Vec::new();
    for cluster in text.graphemes(true) {
        let mut chars = cluster.chars();
        if chars.next().is_some() {
            lengths.push(Some(cluster.chars().count()));
        }
        lengths.extend(chars.map(|_| None));
    }
    lengths
}

/// Wildcard matching with one backtracking point per `%` (linear in
/// practice). A `_` takes the whole cluster that starts where it stands.
///
/// Restarting the last `%` one character later and matching greedily from
/// there is enough although `_` takes a variable number of characters: where
/// a `%`-free stretch ends only grows with where it starts, so its leftmost
/// match leaves the most for what follows.
fn matches_from(tokens: &[Token], value: &[ValueChar]) -> bool {
    // Expand to single-character steps: a literal character, `_`, or `%`.
    let mut steps: Vec<Step> = Vec::new();
    for token in tokens {
        match token {
            Token::Text(chars) => steps.extend(chars.iter().map(|&c| Step::Char(c))),
            Token::One => steps.push(Step::One),
            Token::Any => steps.push(Step::Any),
        }
    }
    let mut steps_left: &[Step] = &steps;
    let mut value_left = value;
    // The steps after the last `%` met, and the value after the run it takes.
    let mut star: Option<(&[Step], &[ValueChar])> = None;
    while let Some((&(c, cluster), after_c)) = value_left.split_first() {
        match (steps_left.split_first(), cluster) {
            (Some((Step::Char(want), after)), _) if *want == c => {
                (steps_left, value_left) = (after, after_c);
            }
            (Some((Step::One, after)), Some(length)) => {
                let Some(after_cluster) = value_left.get(length..) else {
                    return false;
                };
                (steps_left, value_left) = (after, after_cluster);
            }
            (Some((Step::Any, after)), _) => {
                star = Some((after, value_left));
                steps_left = after;
            }
            _ => match star {
                Some((after_star, run_end)) => {
                    let Some((_, longer)) = run_end.split_first() else {
                        return false;
                    };
                    (steps_left, value_left) = (after_star, longer);
                    star = Some((after_star, longer));
                }
                None => return false,
            },
        }
    }
    steps_left.iter().all(|step| *step == Step::Any)
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

    /// Asserts whether each `like` pattern matches its value.
    #[track_caller]
    fn assert_like(cases: &[(&str, &str, bool)]) {
        for &(pattern, value, expected) in cases {
            assert_eq!(
                Pattern::like(pattern).matches(value),
                expected,
                "{pattern:?} ~ {value:?}"
            );
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
        assert_like(&cases);
    }

    #[test]
    fn patterns_compare_caseless_forms() {
        let cases = [
            // the issue: a final sigma in the pattern or the value
            (Pattern::like("ΟΣ%"), "ΟΣΟΣ", true),
            (Pattern::like("ος%"), "ΟΣΟΣ", true),
            (Pattern::starts_with("ΟΣ"), "ΟΣΟΣ", true),
            (Pattern::ends_with("ΟΣ"), "οσοσ", true),
            (Pattern::like("%δοσ"), "ΟΔΟΣ", true),
            // ß is ss: the folded value is longer than the stored one
            (Pattern::like("straße"), "STRASSE", true),
            (Pattern::like("%ss%"), "Weiß", true),
            (Pattern::like("wei_"), "Weiß", false),
            (Pattern::like("wei__"), "Weiß", true),
            (Pattern::like("stra__e"), "Straße", true),
            (Pattern::starts_with("STRAS"), "straße", true),
            (Pattern::ends_with("SSE"), "Straße", true),
            // compatibility forms, ligatures, signs
            (Pattern::like("adm%"), "ａｄｍｉｎ", true),
            (Pattern::like("ａ_ｍ%"), "Admin", true),
            (Pattern::contains("fi"), "ﬁle", true),
            (Pattern::like("_le"), "ﬁle", false),
            (Pattern::like("__le"), "ﬁle", true),
            (Pattern::like("k%"), "\u{212A}elvin", true),
            // Turkish: no locale tailoring
            (Pattern::like("i%"), "Istanbul", true),
            (Pattern::like("ı%"), "Istanbul", false),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(pattern.matches(value), expected, "{pattern:?} ~ {value:?}");
        }
    }

    #[test]
    fn one_is_one_grapheme_cluster_of_the_folded_value() {
        let cases = [
            // combining sequences: NFD and NFC are the same character
            ("zo_", "Zoe\u{308}", true),
            ("zo_", "Zoë", true),
            ("zoe_", "Zoe\u{308}", false),
            ("_", "e\u{301}", true),
            ("_", "e\u{301}\u{323}", true), // no precomposed form: still one cluster
            ("_", "\u{1100}\u{1161}\u{11A8}", true), // Hangul jamo compose to 각
            ("_", "नि", true),
            ("__", "नि", false),
            // emoji: a flag, a skin tone and a keycap are one cluster each
            ("_", "🇩🇪", true),
            ("_", "👍🏽", true),
            ("_", "1\u{FE0F}\u{20E3}", true),
            ("a_b", "a🇩🇪b", true),
            // a ZWJ sequence: fold removes U+200D (a default-ignorable), so
            // its emoji are separate characters of the folded value
            ("_", "👩\u{200D}💻", false),
            ("__", "👩\u{200D}💻", true),
            ("%💻", "👩\u{200D}💻", true),
            // `_` needs a character to take
            ("_", "\u{200B}", false),
            ("%", "\u{200B}", true),
            // `_` takes a whole cluster, never the rest of one
            ("i_stanbul", "İstanbul", false), // İ folds to i + U+0307
            ("_stanbul", "İstanbul", true),
            ("i%", "İstanbul", true), // a literal run is characters
            ("%_", "👍🏽", true),
            ("👍_", "👍🏽", false),
        ];
        assert_like(&cases);
    }

    #[test]
    fn clusters_are_measured_where_they_start() {
        assert_eq!(cluster_lengths("ab"), [Some(1), Some(1)]);
        assert_eq!(cluster_lengths("e\u{301}x"), [Some(2), None, Some(1)]);
        assert_eq!(cluster_lengths("🇩🇪🇫🇷"), [Some(2), None, Some(2), None]);
        assert!(cluster_lengths("").is_empty());
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
    fn literal_shapes_compare_as_the_general_matcher_does() {
        let exact = |kind, text| Pattern::new(kind, text, Case::Exact);
        assert!(exact(MatchKind::Contains, "Ab").matches("xAbx"));
        assert!(!exact(MatchKind::Contains, "Ab").matches("xabx"));
        assert!(exact(MatchKind::StartsWith, "Ab").matches("Abc"));
        assert!(!exact(MatchKind::StartsWith, "Ab").matches("abc"));
        assert!(exact(MatchKind::EndsWith, "é").matches("café"));
        assert!(!exact(MatchKind::EndsWith, "é").matches("cafe\u{301}"));
        let cases = [
            // ASCII values compared without folding, against folded text
            (Pattern::contains("LL"), "MILLER", true),
            (Pattern::contains("é"), "cafe", false),
            (Pattern::starts_with("ǅ"), "DŽemal", true),
            (Pattern::ends_with("SS"), "weiß", true),
            // a combining mark composes with the letter before it
            (Pattern::contains("e"), "cafe\u{301}", false),
            (Pattern::contains("é"), "cafe\u{301}", true),
            (Pattern::ends_with("e"), "cafe\u{301}", false),
            (Pattern::starts_with("ab"), "a", false),
            (Pattern::ends_with("ab"), "b", false),
            (Pattern::contains("abc"), "ab", false),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(pattern.matches(value), expected, "{pattern:?} ~ {value:?}");
            // The general matcher (`%` made a one-step wildcard) agrees.
            let general = Pattern {
                tokens: pattern.tokens.iter().cloned().chain([Token::Any]).collect(),
                case: pattern.case,
            };
            assert_eq!(general.matches(value), expected, "{general:?} ~ {value:?}");
        }
        assert!(folded_contains("MILLER", "ll"));
        assert!(folded_contains("Müller", "müll"));
        assert!(!folded_contains("cafe\u{301}", "e"));
        assert!(folded_contains("abc", ""));
        assert!(!folded_contains("", "a"));
    }

    #[test]
    fn substrings_are_recognised() {
        assert_eq!(Pattern::contains("AB").substring().as_deref(), Some("ab"));
        assert_eq!(
            Pattern::like("Straße").substring().as_deref(),
            Some("strasse")
        );
        assert_eq!(Pattern::like("%ab%").substring().as_deref(), Some("ab"));
        assert_eq!(Pattern::contains("").substring(), None);
        assert_eq!(Pattern::like("a%b").substring(), None);
        assert_eq!(Pattern::like("%a_b%").substring(), None);
        assert_eq!(Pattern::starts_with("ab").substring(), None);
        assert_eq!(Pattern::ends_with("ab").substring(), None);
        // `%%ab%`: two wildcards before the text are still "anything".
        assert_eq!(Pattern::like("%%ab%").substring(), None);
    }

    #[test]
    fn literal_runs_are_folded() {
        assert_eq!(Pattern::like("Ab%cD_e").literal_runs(), ["ab", "cd", "e"]);
        assert_eq!(Pattern::like("Straße%ΟΣ").literal_runs(), ["strasse", "οσ"]);
        assert_eq!(Pattern::like("ＡＢ%").prefix().as_deref(), Some("ab"));
        assert_eq!(Pattern::contains("XY").literal_runs(), ["xy"]);
    }
}
