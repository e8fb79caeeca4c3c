//! A deterministic population: realistic names in several scripts, varied
//! attributes, one to three roles, and pre-hashed passwords.

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, PasswordHasher as _, Version};
use rosterdb::{ExternalId, NewUser};
use serde_json::{Map, Value, json};

/// A name in its own script with an ASCII romanisation (for e-mail addresses).
type Name = (&'static str, &'static str);

/// First names, mixing scripts: Latin with and without diacritics, Greek,
/// Cyrillic, CJK, Hangul, Arabic, Hebrew.
const FIRST: &[Name] = &[
    ("Ada", "ada"),
    ("Grace", "grace"),
    ("Alan", "alan"),
    ("Barbara", "barbara"),
    ("Margaret", "margaret"),
    ("Donald", "donald"),
    ("Katherine", "katherine"),
    ("José", "jose"),
    ("François", "francois"),
    ("Zoë", "zoe"),
    ("Søren", "soren"),
    ("Łukasz", "lukasz"),
    ("Đorđe", "dorde"),
    ("Märta", "marta"),
    ("Çağla", "cagla"),
    ("Émilie", "emilie"),
    ("Jürgen", "jurgen"),
    ("Siobhán", "siobhan"),
    ("Γιώργος", "giorgos"),
    ("Ελένη", "eleni"),
    ("Δημήτρης", "dimitris"),
    ("Александр", "aleksandr"),
    ("Наталья", "natalya"),
    ("Дмитрий", "dmitriy"),
    ("Ольга", "olga"),
    ("太郎", "taro"),
    ("花子", "hanako"),
    ("伟", "wei"),
    ("芳", "fang"),
    ("민준", "minjun"),
    ("محمد", "muhammad"),
    ("فاطمة", "fatima"),
    ("יעל", "yael"),
    ("Nguyễn", "nguyen"),
];

/// Last names, mixing the same scripts.
const LAST: &[Name] = &[
    ("Lovelace", "lovelace"),
    ("Hopper", "hopper"),
    ("Turing", "turing"),
    ("Liskov", "liskov"),
    ("Hamilton", "hamilton"),
    ("Knuth", "knuth"),
    ("Johnson", "johnson"),
    ("Anderson", "anderson"),
    ("Berners-Lee", "berners-lee"),
    ("Müller", "muller"),
    ("Dvořák", "dvorak"),
    ("Ångström", "angstrom"),
    ("Gonçalves", "goncalves"),
    ("Núñez", "nunez"),
    ("Øvergård", "overgard"),
    ("Śliwiński", "sliwinski"),
    ("Straße", "strasse"),
    ("Lefèvre", "lefevre"),
    ("Hernández", "hernandez"),
    ("Jovanović", "jovanovic"),
    ("Yılmaz", "yilmaz"),
    ("Παπαδόπουλος", "papadopoulos"),
    ("Καραγιάννης", "karagiannis"),
    ("Οδυσσέως", "odysseos"),
    ("Иванов", "ivanov"),
    ("Смирнова", "smirnova"),
    ("Кузнецов", "kuznetsov"),
    ("Соколова", "sokolova"),
    ("山田", "yamada"),
    ("佐藤", "sato"),
    ("王", "wang"),
    ("李", "li"),
    ("김", "kim"),
    ("منصور", "mansour"),
    ("حداد", "haddad"),
    ("כהן", "cohen"),
    ("Trần", "tran"),
];

const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "mail.example.net",
    "corp.example",
];
const DEPARTMENTS: &[&str] = &[
    "R&D",
    "Sales",
    "Support",
    "Finance",
    "Legal",
    "Ops",
    "Marketing",
];
const TITLES: &[&str] = &[
    "Engineer",
    "Manager",
    "Analyst",
    "Director",
    "Intern",
    "Consultant",
];
const LOCALES: &[&str] = &[
    "en-GB", "de-DE", "fr-FR", "el-GR", "ru-RU", "ja-JP", "ar-EG", "he-IL",
];

/// The number of roles a population is spread over (ids 1..=ROLES).
pub const ROLES: u64 = 10;

/// How many distinct pre-hashed passwords the population cycles through.
const HASHES: usize = 8;

/// Pre-computed Argon2id PHC strings (m = 19,456 KiB, t = 2, p = 1: the
/// OWASP parameters), made once per process so that an import measures the
/// store, not Argon2.
///
/// # Panics
///
/// When Argon2 cannot hash (a broken build: no benchmark without it).
#[allow(
    clippy::expect_used,
    reason = "benchmark set-up: no hashes, no benchmark"
)]
pub fn password_hashes() -> &'static [String] {
    static CELL: OnceLock<Vec<String>> = OnceLock::new();
    CELL.get_or_init(|| {
        let params = argon2::Params::new(19_456, 2, 1, None).expect("argon2 params");
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        (0..HASHES)
            .map(|i| {
                argon
                    .hash_password(format!("correct horse battery {i}").as_bytes())
                    .expect("argon2 hash")
                    .to_string()
            })
            .collect()
    })
}

/// The `n`th user (from 0) of a population; deterministic in `n`.
///
/// Users are enabled unless `n % 4 == 0`; hold role `n % 10 + 1`, plus
/// `(n / 10) % 10 + 1` when `n % 3 == 0`; have names drawn from `FIRST`
/// and `LAST`, a unique username and e-mail, an imported password hash,
/// 2–6 attributes, and sometimes a nickname, telephone number and external id.
pub fn user(n: u64) -> NewUser {
    let mix = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 29;
    let (first, _) = pick(FIRST, mix);
    let (last, _) = pick(LAST, mix / 41);
    let mut roles = vec![(n % ROLES).saturating_add(1)];
    if n.is_multiple_of(3) {
        let extra = (n / ROLES % ROLES).saturating_add(1);
        if !roles.contains(&extra) {
            roles.push(extra);
        }
    }
    let hashes = password_hashes();
    let hash = usize::try_from(n)
        .ok()
        .and_then(|i| hashes.get(i % HASHES))
        .cloned();
    NewUser {
        nickname: n.is_multiple_of(5).then(|| first.to_string()),
        telephone_number: n
            .is_multiple_of(2)
            .then(|| format!("+44 20 7946 {:04}", n % 10_000)),
        enabled: !n.is_multiple_of(4),
        roles,
        external_ids: if n.is_multiple_of(7) {
            vec![ExternalId::new(
                "github",
                format!("{}", n.saturating_add(1_000_000)),
            )]
        } else {
            Vec::new()
        },
        attributes: attributes(n, mix),
        password_hash: hash,
        ..NewUser::new(
            format!("{}.{}{n}", first.to_lowercase(), last.to_lowercase()),
            email(n),
            first,
            last,
        )
    }
}

/// The e-mail address of the `n`th user (as [`user`] gives it, without
/// making the rest of the user).
pub fn email(n: u64) -> String {
    let mix = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 29;
    let (_, first) = pick(FIRST, mix);
    let (_, last) = pick(LAST, mix / 41);
    format!("{first}.{last}{n}@{}", pick(DOMAINS, mix / 7))
}

/// Two to six attributes of varied types: strings, numbers, booleans, a
/// nested object, an array.
fn attributes(n: u64, mix: u64) -> Map<String, Value> {
    let mut a = Map::new();
    a.insert("department".into(), pick(DEPARTMENTS, n).into());
    a.insert(
        "employeeNumber".into(),
        json!(100_000_u64.saturating_add(n)),
    );
    if n.is_multiple_of(2) {
        a.insert("title".into(), pick(TITLES, mix / 3).into());
    }
    if n.is_multiple_of(3) {
        a.insert("locale".into(), pick(LOCALES, mix / 5).into());
    }
    if n.is_multiple_of(4) {
        a.insert(
            "address".into(),
            json!({"city": pick(LAST, mix / 11).0, "postcode": format!("{:05}", n % 100_000)}),
        );
    }
    if n.is_multiple_of(6) {
        a.insert("tags".into(), json!(["beta", pick(DEPARTMENTS, mix)]));
        a.insert("newsletter".into(), json!(n.is_multiple_of(12)));
    }
    a
}

/// The first `count` users of the population.
pub fn users(count: u64) -> Vec<NewUser> {
    (0..count).map(user).collect()
}

/// The entry of `pool` that `n` picks, cycling through it.
fn pick<T: Copy + Default>(pool: &[T], n: u64) -> T {
    u64::try_from(pool.len())
        .ok()
        .and_then(|len| n.checked_rem(len))
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| pool.get(i))
        .copied()
        .unwrap_or_default()
}
