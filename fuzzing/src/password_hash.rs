//! The `password_hash` target: stored password hashes imported from other
//! systems (docs/reference/credentials.md, Passwords), parsed with `StoredHash::parse` and checked
//! with `StoredHash::verify`.
//!
//! The input is the hash text, then a line break, then the password
//! (bytes as given). Properties:
//! - parsing gives a hash or an error message that is not empty and does
//!   not quote the hash text;
//! - a parsed hash is of the scheme its prefix names and its cost
//!   parameters lie within the documented bounds (argon2 m ≤ 1,048,576 KiB,
//!   t ≤ 100, p ≤ 64; bcrypt cost 4–16; PBKDF2 1–10,000,000 iterations;
//!   scrypt log₂N 1–20, r 1–16, p 1–16);
//! - when its cost is small enough to compute within a fuzzing run,
//!   verifying the password never panics and answers the same twice.

use rosterdb::internals::StoredHash;

use crate::violated;

/// The most work a verify may take to be run: argon2 KiB × passes, bcrypt
/// 2^cost, PBKDF2 iterations, scrypt 2^log₂N × r × p (each about 10 ms).
const ARGON2_BUDGET: u64 = 16_384;
const BCRYPT_MAX_COST: u64 = 6;
const PBKDF2_BUDGET: u64 = 20_000;
const SCRYPT_BUDGET: u64 = 16_384;

/// Checks one input (see the module documentation).
pub fn run(data: &[u8]) {
    let (text, password) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (
            data.get(..at).unwrap_or_default(),
            data.get(at..).and_then(|p| p.get(1..)),
        ),
        None => (data, None),
    };
    let text = crate::text(text);
    let hash = match StoredHash::parse(&text) {
        Ok(hash) => hash,
        Err(message) => return refused(&text, &message),
    };
    let cost = costs(&hash.cost());
    bounded(&text, hash.scheme(), &cost);
    let Some(password) = password else {
        return;
    };
    if cheap(hash.scheme(), &cost) {
        let first = hash.verify(password);
        if hash.verify(password) != first {
            violated(format!("{text:?} verifies {password:?} differently twice"));
        }
        // Forget what the internals noted of the hashing (it would only grow).
        drop(rosterdb::internals::work::take());
    }
}

/// Panics when a refusal's message is empty or quotes the hash text.
fn refused(text: &str, message: &str) {
    if message.is_empty() {
        violated(format!("{text:?} is refused with an empty message"));
    }
    let looks_like_a_hash = text.starts_with('$') || text.starts_with("pbkdf2_");
    if looks_like_a_hash && text.len() >= 8 && message.contains(text) {
        violated(format!("the refusal of {text:?} quotes it: {message}"));
    }
}

/// The `name=value` cost pairs of `StoredHash::cost`.
fn costs(text: &str) -> Vec<(String, u64)> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.parse().unwrap_or(u64::MAX)))
        .collect()
}

fn cost_of(cost: &[(String, u64)], name: &str) -> u64 {
    match cost.iter().find(|(n, _)| n == name) {
        Some(&(_, value)) => value,
        None => violated(format!("no {name} among the costs {cost:?}")),
    }
}

/// Panics unless the scheme matches the prefix and every cost parameter is within bounds.
fn bounded(text: &str, scheme: &str, cost: &[(String, u64)]) {
    let prefix_ok = match scheme {
        "argon2id" | "argon2i" | "argon2d" | "scrypt" => text.starts_with(&format!("${scheme}$")),
        "bcrypt" => ["$2a$", "$2b$", "$2y$"].iter().any(|p| text.starts_with(p)),
        "pbkdf2-sha256" | "pbkdf2-sha512" => text.starts_with(&format!("${scheme}$")),
        "django-pbkdf2-sha256" => text.starts_with("pbkdf2_sha256$"),
        _ => false,
    };
    if !prefix_ok {
        violated(format!("{text:?} parses as scheme {scheme}"));
    }
    let limits: &[(&str, u64, u64)] = match scheme {
        "argon2id" | "argon2i" | "argon2d" => &[("m", 8, 1_048_576), ("t", 1, 100), ("p", 1, 64)],
        "bcrypt" => &[("cost", 4, 16)],
        "scrypt" => &[("ln", 1, 20), ("r", 1, 16), ("p", 1, 16)],
        _ => &[("i", 1, 10_000_000)],
    };
    for &(name, low, high) in limits {
        let value = cost_of(cost, name);
        if !(low..=high).contains(&value) {
            violated(format!(
                "{text:?} parses with {name}={value}, outside {low}..={high}"
            ));
        }
    }
}

/// Whether a verify of this cost is quick enough to run while fuzzing.
fn cheap(scheme: &str, cost: &[(String, u64)]) -> bool {
    match scheme {
        "argon2id" | "argon2i" | "argon2d" => {
            cost_of(cost, "m").saturating_mul(cost_of(cost, "t")) <= ARGON2_BUDGET
        }
        "bcrypt" => cost_of(cost, "cost") <= BCRYPT_MAX_COST,
        "scrypt" => {
            let n = 1_u64.checked_shl(u32::try_from(cost_of(cost, "ln")).unwrap_or(u32::MAX));
            n.unwrap_or(u64::MAX)
                .saturating_mul(cost_of(cost, "r"))
                .saturating_mul(cost_of(cost, "p"))
                <= SCRYPT_BUDGET
        }
        _ => cost_of(cost, "i") <= PBKDF2_BUDGET,
    }
}
