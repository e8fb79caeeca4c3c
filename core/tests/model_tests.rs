//! Model-based property test: random sequences of operations run against the
//! real store and against a small in-memory model (BTreeMaps), which must
//! agree after every step (docs/reference/documents.md; docs/reference/updates.md;
//! docs/reference/transactions.md; docs/reference/tenancy.md;
//! docs/reference/changes-and-export.md).
//!
//! The model follows the documented semantics:
//! - ids per kind start at 1, grow by one per successful create, are never
//!   reused; a failed create consumes no id;
//! - username and email are unique per tenant under `rosterdb::fold`
//!   (NFKC_Casefold, docs/reference/documents.md, Caseless matching; tested on its own in
//!   `caseless.rs`) (username checked first), and so are role names; external ids (tenant,
//!   type, value) are likewise case-folded (docs/design.md: docs/reference/documents.md's general
//!   rule), for uniqueness, lookups and duplicates within one user;
//! - a user's roles must exist in the user's tenant (`Validation` on `roles`),
//!   and are stored sorted and deduplicated;
//! - deleting a held role is `InUse` (with the holder count) unless cascading,
//!   which removes it from each holder as an update (version + 1, an `update`
//!   change each);
//! - patch (RFC 6902), merge (RFC 7396) and replace re-validate the whole
//!   resulting document like a create: every failing field of the document
//!   is listed (docs/reference/errors.md), a changed `tenant` and a read-only key given with
//!   another value than the stored one among them; then uniqueness
//!   (`Conflict`), then role integrity (`Validation` on `roles`), as for a
//!   create. Before any of that: another tenant's record or a missing one is
//!   `NotFound`, then a wrong `expected_version` is `VersionConflict`; a
//!   patch operation on a read-only path (other than `test`) is
//!   `InvalidPatch` naming it, checked for every operation before any is
//!   applied; operations then apply in order, the first that fails (a
//!   failed `test`, a missing path) is `InvalidPatch` naming it. An update
//!   that changes nothing keeps the version and logs nothing; any other
//!   bumps the version and logs one `update`;
//! - a scoped view (docs/reference/tenancy.md) sees one tenant: its creates take the view's
//!   tenant (another one is `Validation` on `tenant`), every other tenant's
//!   record is `NotFound`, lookups use the view's tenant whatever tenant is
//!   named, lists and counts hold only its records, and its change log only
//!   the entries of its records;
//! - every successful write appends its change-log entries, failures none;
//! - `store.write` commits all or nothing, its reads see its own writes, and an
//!   operation that failed inside it (and whose error the caller swallowed)
//!   leaves no trace; a `begin_write` transaction dropped uncommitted leaves
//!   no trace at all;
//! - `store.check()` finds nothing wrong after any operation.
//!
//! The test is split by role: `model/generators.rs` (input pools and random
//! operations), `model/actions.rs` (resolved actions and outcomes),
//! `model/oracle.rs` (the model), `model/driver.rs` (running both and
//! comparing) and `model/sequences.rs` (hand-written sequences). Failures
//! proptest finds are kept in `tests/regressions/model_tests.txt` and
//! replayed first (`common/regressions.rs`).

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

#[path = "model/actions.rs"]
mod actions;
mod common;
#[path = "model/driver.rs"]
mod driver;
#[path = "model/generators.rs"]
mod generators;
#[path = "model/oracle.rs"]
mod oracle;
#[path = "model/sequences.rs"]
mod sequences;

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestError, TestRunner};
use rosterdb::{Error, NewUser};

use crate::actions::{Outcome, error_outcome};
use crate::common::regressions::{persisted, persisted_in};
use crate::driver::{run, store};
use crate::generators::{
    INVALID_EMAILS, INVALID_TENANT, INVALID_USERNAMES, VALID_EMAILS, VALID_USERNAMES, case,
};
use crate::oracle::{valid_email, valid_tenant, valid_username};

proptest! {
    #![proptest_config(persisted(ProptestConfig::with_cases(64)))]

    #[test]
    fn store_agrees_with_model(cases in prop::collection::vec(case(), 1..=40)) {
        run(&cases)?;
    }
}

/// The pools' validity is what the model's rules say: guards the
/// `char::is_alphabetic` stand-in for `\p{L}` and the hand-written rules.
#[test]
fn pool_assumptions() {
    assert!(!'\u{308}'.is_alphabetic());
    for s in VALID_USERNAMES {
        assert!(
            valid_username(s) && valid_username(&s.to_uppercase()),
            "{s}"
        );
    }
    for s in INVALID_USERNAMES {
        assert!(
            !valid_username(s) && !valid_username(&s.to_uppercase()),
            "{s}"
        );
    }
    for s in VALID_EMAILS {
        assert!(valid_email(s) && valid_email(&s.to_uppercase()), "{s}");
    }
    for s in INVALID_EMAILS {
        assert!(!valid_email(s) && !valid_email(&s.to_uppercase()), "{s}");
    }
    assert!(!valid_tenant(INVALID_TENANT));
    let store = store();
    // One tenant each: some of them are the same name in their caseless form.
    for (i, s) in VALID_USERNAMES.iter().enumerate() {
        let email = format!("{}@pool.io", s.replace('.', ""));
        store
            .users()
            .create(NewUser {
                tenant: Some(format!("p{i}")),
                ..NewUser::new(*s, email, "F", "L")
            })
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    for s in INVALID_USERNAMES {
        let err = store
            .users()
            .create(NewUser::new(*s, "x@pool.io", "F", "L"))
            .unwrap_err();
        assert_eq!(
            error_outcome(&err),
            Outcome::Validation(vec!["username".into()])
        );
    }
}

/// The changes limit is 1..=1000.
#[test]
fn changes_limit_bounds() {
    let store = store();
    for limit in [0, 1001] {
        assert!(matches!(
            store.changes(0, limit),
            Err(Error::InvalidQuery { .. })
        ));
    }
    assert_eq!(store.changes(0, 1000).unwrap(), Vec::new());
}

/// A failure proptest finds is kept in the regressions file, shrunk, and
/// replayed before any new case on the next run (`common/regressions.rs`;
/// the properties here use the same configuration with the committed file).
#[test]
fn found_failures_are_kept_and_replayed_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kept.txt").to_string_lossy().into_owned();
    let path: &'static str = Box::leak(file.into_boxed_str());
    let below = |x: u32| {
        if x < 1000 {
            Ok(())
        } else {
            Err(TestCaseError::fail("too big"))
        }
    };
    let shrunk = |result| match result {
        Err(TestError::Fail(_, value)) => value,
        other => panic!("expected a failure, got {other:?}"),
    };
    // No new cases and nothing kept: nothing runs. (Shrinking is bounded
    // by 4 × cases unless set.)
    let replay_only = persisted_in(
        ProptestConfig {
            max_shrink_iters: 1_000,
            ..ProptestConfig::with_cases(0)
        },
        path,
    );
    assert!(
        TestRunner::new(replay_only.clone())
            .run(&any::<u32>(), below)
            .is_ok()
    );
    // A failure found: kept, with its shrunk value as a comment.
    let mut runner = TestRunner::new(persisted_in(ProptestConfig::with_cases(256), path));
    assert_eq!(shrunk(runner.run(&any::<u32>(), below)), 1000);
    let kept = std::fs::read_to_string(path).unwrap();
    assert!(kept.contains("shrinks to 1000"), "{kept}");
    // The next run replays it before any new case (here: there are none).
    let mut runner = TestRunner::new(replay_only);
    assert_eq!(shrunk(runner.run(&any::<u32>(), below)), 1000);
}
