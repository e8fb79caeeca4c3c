//! The canonical caseless form of docs/reference/documents.md, Caseless matching: `fold`, the
//! toNFKC_Casefold mapping of Unicode §3.13 (R5), and nothing else.
//!
//! Every case-insensitive comparison of the store goes through [`fold`]:
//! unique keys (usernames, emails, external ids, role names), the ordered
//! and trigram indexes, `=`, `in`, `like`, `co`, `sw`, `ew`, `search` and the
//! ordering of strings. Stored values are never changed.
//!
//! `fold(X)` = toNFKC_Casefold(NFD(X)), the form that Unicode's *identifier
//! caseless match* compares (Unicode §3.13). toNFKC_Casefold maps each character to
//! its NFKC_Casefold value and normalises the result to NFC; decomposing
//! first makes the result the same for canonically equivalent inputs (it
//! only matters for U+0345 COMBINING GREEK YPOGEGRAMMENI, the one combining
//! mark that folds to a base letter, `ι`). A character's NFKC_Casefold value
//! is built as the Unicode Character Database builds the property: NFKC,
//! full case folding (`CaseFolding.txt` statuses C and F, no Turkic
//! tailoring) and removal of Default_Ignorable_Code_Point characters,
//! repeated until the result is stable. Characters that the Changes_When_NFKC_Casefolded
//! property marks as unchanged are copied as they are. Normalisation, case
//! folding and both properties come from ICU4X data of one Unicode version
//! (`icu_normalizer`, `icu_casemap`, `icu_properties`; Unicode 18.0); see
//! `docs/decisions/0007-fold-is-nfkc-casefold.md`.

use std::borrow::Cow;

use icu_casemap::CaseMapper;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::CodePointSetData;
use icu_properties::props::{ChangesWhenNfkcCasefolded, DefaultIgnorableCodePoint};

/// The most rounds one character's mapping takes. Every code point is
/// stable after two (a test checks all of them).
const MAX_ROUNDS: usize = 4;

/// The canonical caseless form of `value` (docs/reference/documents.md, Caseless matching):
/// toNFKC_Casefold of its NFD, so that canonically equivalent texts fold alike.
///
/// ```
/// use rosterdb::fold;
///
/// assert_eq!(fold("Straße"), fold("STRASSE"));
/// assert_eq!(fold("ａｄｍｉｎ"), "admin");
/// assert_eq!(fold("ΟΔΟΣ"), fold("οδος"));
/// assert_eq!(fold("\u{212A}elvin"), "kelvin"); // the Kelvin sign
/// assert_eq!(fold(&fold("ǅemal")), fold("ǅemal"));
/// ```
pub fn fold(value: &str) -> String {
    if value.is_ascii() {
        // ASCII maps to itself but for A-Z, and is already NFC.
        return value.to_ascii_lowercase();
    }
    let changes = CodePointSetData::new::<ChangesWhenNfkcCasefolded>();
    let decomposed = DecomposingNormalizerBorrowed::new_nfd().normalize(value);
    let mut mapped = String::with_capacity(decomposed.len());
    for c in decomposed.chars() {
        if c.is_ascii() {
            mapped.push(c.to_ascii_lowercase());
        } else if changes.contains(c) {
            mapped.push_str(&fold_char(c));
        } else {
            mapped.push(c);
        }
    }
    ComposingNormalizerBorrowed::new_nfc()
        .normalize(&mapped)
        .into_owned()
}

/// The NFKC_Casefold mapping of one character: NFKC, then rounds of case
/// folding, removal of default-ignorables and NFKC until nothing changes.
fn fold_char(c: char) -> String {
    let mut buf = [0; 4];
    let mut current = ComposingNormalizerBorrowed::new_nfkc()
        .normalize(c.encode_utf8(&mut buf))
        .into_owned();
    for _ in 0..MAX_ROUNDS {
        match round(&current) {
            Some(next) if next != current => current = next,
            _ => break,
        }
    }
    current
}

/// One round on an NFKC-normalised string: full case folding, removal of
/// default-ignorables, NFKC. `None` when the string is left as it is.
fn round(nfkc_text: &str) -> Option<String> {
    let folded = CaseMapper::new().fold_string(nfkc_text);
    let kept = without_ignorables(&folded);
    if matches!((&folded, &kept), (Cow::Borrowed(_), Cow::Borrowed(_))) {
        return None;
    }
    Some(
        ComposingNormalizerBorrowed::new_nfkc()
            .normalize(&kept)
            .into_owned(),
    )
}

/// `text` without its Default_Ignorable_Code_Point characters.
fn without_ignorables(text: &str) -> Cow<'_, str> {
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    if text.chars().any(|c| ignorable.contains(c)) {
        Cow::Owned(text.chars().filter(|&c| !ignorable.contains(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Pairs that are the same caseless text, and what they fold to.
    #[test]
    fn the_examples_of_the_spec_and_the_issue() {
        let same = [
            // docs/reference/documents.md, Caseless matching
            ("straße", "STRASSE", "strasse"),
            ("ａｄｍｉｎ", "admin", "admin"),
            ("ΟΔΟΣ", "οδοσ", "οδοσ"),
            ("ΟΔΟΣ", "οδος", "οδοσ"),
            ("\u{212A}", "k", "k"),
            // German: ß, capital ẞ and SS
            ("Weiß", "WEISS", "weiss"),
            ("\u{1E9E}", "ss", "ss"),
            ("Maße", "MASSE", "masse"),
            // Greek: final sigma, lunate sigma, ypogegrammeni, tonos
            ("ΣΊΣΥΦΟΣ", "σίσυφος", "σίσυφοσ"),
            ("ς", "Σ", "σ"),
            ("\u{03F9}", "σ", "σ"),
            ("ᾳ", "αι", "αι"),
            ("ΆΛΦΑ", "άλφα", "άλφα"),
            // fullwidth and other compatibility forms
            ("ＡＢＣ１２３", "abc123", "abc123"),
            ("\u{3000}", " ", " "),
            ("①", "1", "1"),
            ("𝐀𝐝𝐚", "ada", "ada"),
            ("㎒", "MHz", "mhz"),
            // ligatures
            ("ﬁle", "FILE", "file"),
            ("ﬀ", "FF", "ff"),
            ("ﬆ", "ST", "st"),
            ("ǅ", "Ǆ", "dž"),
            // signs that are letters
            ("\u{212B}", "å", "å"),
            ("\u{2126}", "ω", "ω"),
            // Cherokee folds to its capitals
            ("ꮳꮃꭹ", "ᏣᎳᎩ", "ᏣᎳᎩ"),
            // combining sequences: NFC and NFD
            ("e\u{301}", "é", "é"),
            ("E\u{301}", "é", "é"),
            ("Zoe\u{308}", "ZOË", "zoë"),
            ("\u{1100}\u{1161}\u{11A8}", "각", "각"),
            // default-ignorables are removed
            ("ad\u{200B}min", "admin", "admin"),
            ("so\u{AD}ft", "soft", "soft"),
            ("\u{3164}", "", ""),
            ("❤\u{FE0F}", "❤", "❤"),
        ];
        for (a, b, folded) in same {
            assert_eq!(fold(a), folded, "fold({a:?})");
            assert_eq!(fold(b), folded, "fold({b:?})");
        }
    }

    #[test]
    fn turkish_i_is_not_tailored() {
        // NFKC_Casefold uses the default (non-Turkic) folding: I folds to i,
        // İ to i + combining dot above, and dotless ı stays itself.
        assert_eq!(fold("I"), "i");
        assert_eq!(fold("İ"), "i\u{307}");
        assert_eq!(fold("ı"), "ı");
        assert_eq!(fold("ISTANBUL"), fold("istanbul"));
        assert_ne!(fold("İSTANBUL"), fold("istanbul"));
        assert_ne!(fold("ıstanbul"), fold("istanbul"));
        assert_eq!(fold("İstanbul"), fold("i\u{307}stanbul"));
    }

    #[test]
    fn different_texts_stay_different() {
        for (a, b) in [
            ("e", "é"),
            ("ss", "s"),
            ("straße", "strase"),
            ("ı", "i"),
            ("ο", "σ"),
            ("admin", "admin "),
            ("a", "а"), // Latin a and Cyrillic а are not confusables here
        ] {
            assert_ne!(fold(a), fold(b), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn ascii_is_lowercased_and_nothing_else() {
        let all: String = (0u8..128).map(char::from).collect();
        assert_eq!(fold(&all), all.to_ascii_lowercase());
    }

    /// Every code point: its mapping, built by rounds, changes it exactly
    /// when ICU4X's Changes_When_NFKC_Casefolded property (which Unicode
    /// derives from the NFKC_Casefold mapping) says so, is stable after two
    /// rounds, and folding a character is idempotent.
    #[test]
    fn every_code_point_agrees_with_changes_when_nfkc_casefolded() {
        let changes = CodePointSetData::new::<ChangesWhenNfkcCasefolded>();
        let nfkc = ComposingNormalizerBorrowed::new_nfkc();
        let mut disagree = Vec::new();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let s = c.to_string();
            if (fold_char(c) != s) != changes.contains(c) {
                disagree.push(c);
            }
            let folded = fold(&s);
            assert_eq!(
                fold(&folded),
                folded,
                "not idempotent on U+{:04X}",
                c as u32
            );
            let mut current = nfkc.normalize(&s).into_owned();
            let mut rounds = 0;
            while let Some(next) = round(&current).filter(|n| *n != current) {
                current = next;
                rounds += 1;
            }
            assert!(rounds <= 2, "U+{:04X} took {rounds} rounds", c as u32);
        }
        assert!(disagree.is_empty(), "{disagree:X?}");
    }

    /// Characters that fold, compose, decompose or vanish: the material of
    /// the strings on which idempotence is most likely to fail.
    fn tricky() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "ß",
            "ẞ",
            "SS",
            "Σ",
            "ς",
            "σ",
            "\u{345}",
            "ᾳ",
            "ᾼ",
            "ΐ",
            "\u{390}",
            "İ",
            "ı",
            "I",
            "i",
            "\u{307}",
            "\u{301}",
            "\u{308}",
            "\u{323}",
            "\u{31B}",
            "e",
            "E",
            "o",
            "ﬁ",
            "ﬃ",
            "ǅ",
            "ǰ",
            "J",
            "\u{30C}",
            "\u{212A}",
            "\u{212B}",
            "\u{2126}",
            "Ａ",
            "ａ",
            "①",
            "㎒",
            "㍱",
            "ꮳ",
            "Ꮳ",
            "\u{1100}",
            "\u{1161}",
            "\u{11A8}",
            "각",
            "\u{200B}",
            "\u{200D}",
            "\u{AD}",
            "\u{FE0F}",
            "\u{3164}",
            "\u{115F}",
            "👩",
            "💻",
            "🇩",
            "🇪",
            "\u{1F3FD}",
            "\u{0F73}",
            "\u{0F71}",
            "\u{0F72}",
            "\u{FB2C}",
            "\u{FB1F}",
            "ׇ",
            "\u{1D15E}",
            "\u{FDFA}",
            "\u{FDFB}",
            "\u{2F8A6}",
            "\u{0344}",
            "\u{1E9B}",
            "\u{0130}",
        ]);
        prop::collection::vec(pieces, 0..12).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn fold_is_idempotent_on_arbitrary_strings(s in any::<String>()) {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
        }

        #[test]
        fn fold_is_idempotent_on_tricky_strings(s in tricky()) {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
            // Canonically equivalent strings (NFC, NFD) fold alike.
            for form in [
                ComposingNormalizerBorrowed::new_nfc().normalize(&s).into_owned(),
                DecomposingNormalizerBorrowed::new_nfd().normalize(&s).into_owned(),
            ] {
                prop_assert_eq!(fold(&form), once.clone(), "{:?}", form);
            }
        }

        #[test]
        fn fold_ignores_the_case_of_ascii_letters(s in any::<String>()) {
            prop_assert_eq!(fold(&s.to_ascii_uppercase()), fold(&s.to_ascii_lowercase()));
        }
    }
}
