//! Hand-written operation sequences, run by the driver like generated ones,
//! with their outcomes and end states pinned by hand.

use rosterdb::{ChangeOp, EntityKind, ExternalId};
use serde_json::json;

use crate::actions::brief;
use crate::driver::run;
use crate::generators::{
    Case, Expect, IdRef, MergeSpec, Op, PatchSpec, ReplaceSpec, RoleSpec, Src, Step, TenantIn,
    TxMode, UserSpec,
};

/// A hand-written sequence through the cases the generator reaches rarely,
/// with the model's end state pinned by hand (so model and store cannot agree
/// on something wrong here).
#[test]
fn fixed_sequence() {
    let role = |name: &str, tenant: Option<&str>| {
        Step::CreateRole(RoleSpec {
            name: name.into(),
            tenant: tenant.map(str::to_owned),
        })
    };
    let user_ext =
        |name: &str, email: &str, tenant: Option<&str>, roles: &[u64], ext: &[(&str, &str)]| {
            Step::CreateUser(UserSpec {
                username: name.into(),
                email: email.into(),
                tenant: tenant.map(str::to_owned),
                roles: roles.iter().map(|&r| IdRef::Raw(r)).collect(),
                external_ids: ext.iter().map(|&(k, v)| ExternalId::new(k, v)).collect(),
            })
        };
    let user = |name: &str, email: &str, tenant: Option<&str>, roles: &[u64]| {
        user_ext(name, email, tenant, roles, &[])
    };
    let single = |step: Step| Case {
        op: Op::Single(step, None),
        seed: 0x9e37_79b9_7f4a_7c15,
    };
    let tx = |steps: Vec<Step>, mode: TxMode| Case {
        op: Op::Tx(steps, mode, None),
        seed: 0x0123_4567_89ab_cdef,
    };
    let cases = vec![
        single(role("admin", None)),                       // role 1
        single(role("ADMIN", Some("t1"))),                 // role 2
        single(role("Admin", None)),                       // Conflict name
        single(user("ann", "ann@x.io", None, &[1, 1])),    // user 1, roles [1]
        single(user("ANN", "b@x.io", Some("t1"), &[2])),   // user 2
        single(user("bob", "ANN@X.IO", None, &[])),        // Conflict email
        single(user("bob", "bob@x.io", None, &[2])),       // Validation roles (other tenant)
        single(user("bob", "bob@x.io", Some("t1"), &[2])), // user 3
        single(Step::DeleteRole(IdRef::Raw(2), false)),    // InUse, count 2
        tx(
            vec![
                user("zoë", "z@x.io", None, &[]),
                user("ZOË", "y@x.io", None, &[]), // Conflict: all rolled back
            ],
            TxMode::Atomic,
        ),
        tx(
            vec![
                user("zoë", "z@x.io", None, &[]),     // user 4
                user("ZOË", "y@x.io", None, &[]),     // Conflict, swallowed
                user("straße", "s@x.io", None, &[1]), // user 5
            ],
            TxMode::Swallow,
        ),
        tx(vec![Step::DeleteRole(IdRef::Raw(2), true)], TxMode::Abort),
        single(Step::DeleteRole(IdRef::Raw(2), true)), // users 2 and 3 updated
        single(Step::DeleteUser(IdRef::Raw(1))),
        single(Step::DeleteUser(IdRef::Raw(1))), // NotFound
        single(user("ann", "ann@x.io", None, &[])), // user 6: the name is free again
        single(user_ext("carl", "c@x.io", None, &[], &[("github", "1")])), // user 7
        single(user_ext("dave", "d@x.io", None, &[], &[("GitHub", "1")])), // Conflict externalIds
        single(user_ext(
            "dave",
            "d@x.io",
            Some("t1"),
            &[],
            &[("GitHub", "1")],
        )), // user 8
        single(user_ext(
            "erin",
            "e@x.io",
            None,
            &[],
            &[("ldap", "A"), ("LDAP", "a")],
        )), // Validation externalIds[1]
        tx(vec![role("ops", None)], TxMode::BeginDrop),
        tx(
            vec![user("fred", "f@x.io", None, &[])],
            TxMode::BeginRollback,
        ),
        tx(
            vec![
                role("ops", None),                  // role 3
                user("fred", "f@x.io", None, &[3]), // user 9
                user("FRED", "g@x.io", None, &[]),  // Conflict, swallowed
                role("OPS", None),                  // Conflict, swallowed
            ],
            TxMode::BeginCommit,
        ),
    ];
    let model = run(&cases).unwrap_or_else(|e| panic!("{e}")).model;
    assert_eq!((model.last_user_id, model.last_role_id), (9, 3));
    assert_eq!(
        model.users.keys().copied().collect::<Vec<_>>(),
        [2, 3, 4, 5, 6, 7, 8, 9]
    );
    assert_eq!(model.roles.keys().copied().collect::<Vec<_>>(), [1, 3]);
    assert_eq!(
        (model.users[&2].version, model.users[&2].roles.len()),
        (2, 0)
    );
    use ChangeOp::{Create as C, Delete as D, Update as U};
    use EntityKind::{Role as R, User as Us};
    assert_eq!(
        model.log,
        [
            (R, 1, C, 1),
            (R, 2, C, 1),
            (Us, 1, C, 1),
            (Us, 2, C, 1),
            (Us, 3, C, 1),
            (Us, 4, C, 1),
            (Us, 5, C, 1),
            (Us, 2, U, 2),
            (Us, 3, U, 2),
            (R, 2, D, 1),
            (Us, 1, D, 1),
            (Us, 6, C, 1),
            (Us, 7, C, 1),
            (Us, 8, C, 1),
            (R, 3, C, 1),
            (Us, 9, C, 1),
        ]
    );
}

/// A hand-written sequence of updates and scoped operations, with every
/// outcome and the end state pinned by hand.
#[test]
fn fixed_update_sequence() {
    use PatchSpec as P;
    let single = |step: Step| Case {
        op: Op::Single(step, None),
        seed: 0x5851_f42d_4c95_7f2d,
    };
    let scoped = |view: &'static str, step: Step| Case {
        op: Op::Single(step, Some(view)),
        seed: 0x1405_7b7e_f767_814f,
    };
    let user = |name: &str, email: &str, tenant: Option<&str>, roles: &[u64]| {
        Step::CreateUser(UserSpec {
            username: name.into(),
            email: email.into(),
            tenant: tenant.map(str::to_owned),
            roles: roles.iter().map(|&r| IdRef::Raw(r)).collect(),
            external_ids: Vec::new(),
        })
    };
    let role = |name: &str, tenant: Option<&str>| {
        Step::CreateRole(RoleSpec {
            name: name.into(),
            tenant: tenant.map(str::to_owned),
        })
    };
    let patch = |id: u64, ops: Vec<PatchSpec>, e: Expect| Step::Patch(IdRef::Raw(id), ops, e);
    let no_merge = MergeSpec {
        username: None,
        email: None,
        nickname: None,
        enabled: None,
        dept: None,
        tenant: None,
        read_only: None,
    };
    let merge = |id: u64, m: MergeSpec, e: Expect| Step::Merge(IdRef::Raw(id), Box::new(m), e);
    let minimal = |username: Src, email: Src| ReplaceSpec {
        username,
        email,
        names: None,
        keep_nickname: false,
        keep_roles: false,
        keep_external_ids: false,
        keep_attributes: false,
        enabled: None,
        tenant: TenantIn::Absent,
        read_only: None,
    };
    let replace =
        |id: u64, r: ReplaceSpec, e: Expect| Step::Replace(IdRef::Raw(id), Box::new(r), e);
    let pool = |s: &str| Src::Pool(s.into());
    let ext = |k: &str, v: &str| ExternalId::new(k, v);
    let cases = vec![
        single(role("admin", None)),                       // role 1
        single(role("ops", Some("t1"))),                   // role 2
        single(user("ann", "ann@x.io", None, &[])),        // user 1
        single(user("bob", "bob@x.io", None, &[])),        // user 2
        scoped("t1", user("ann", "ann@x.io", None, &[2])), // user 3, tenant t1
        // Patches of user 1.
        single(patch(1, vec![P::Username(pool("BOB"))], Expect::Any)),
        single(patch(
            1,
            vec![
                P::Name("firstName", "Ann".into()),
                P::AddExternal(ext("github", "1")),
            ],
            Expect::Right,
        )), // v2
        single(patch(
            1,
            vec![P::Name("lastName", "X".into()), P::ReadOnly(0)],
            Expect::Any,
        )), // refused before anything applies
        single(patch(
            1,
            vec![P::Name("firstName", "Ünal".into()), P::TestVersion(false)],
            Expect::Any,
        )),
        single(patch(1, vec![P::Tenant(Some("t1".into()))], Expect::Any)),
        single(patch(
            1,
            vec![P::Username(pool("bad name")), P::Tenant(Some("t1".into()))],
            Expect::Any,
        )), // every failing field
        single(patch(
            1,
            vec![P::TestVersion(true), P::TestUsername(0)],
            Expect::Right,
        )), // no change: still v2
        // Merges.
        single(merge(
            1,
            MergeSpec {
                nickname: Some(None),
                ..no_merge.clone()
            },
            Expect::Above,
        )),
        single(merge(
            1,
            MergeSpec {
                nickname: Some(Some("Nan".into())),
                enabled: Some(false),
                dept: Some(Some("R&D".into())),
                ..no_merge.clone()
            },
            Expect::Right,
        )), // v3
        single(merge(
            1,
            MergeSpec {
                nickname: Some(Some("Nan".into())),
                read_only: Some((1, true)),
                ..no_merge.clone()
            },
            Expect::Any,
        )), // no change: still v3
        single(merge(
            1,
            MergeSpec {
                read_only: Some((0, false)),
                ..no_merge.clone()
            },
            Expect::Any,
        )),
        single(merge(
            1,
            MergeSpec {
                email: Some(pool("ann@x")),
                read_only: Some((2, false)),
                ..no_merge.clone()
            },
            Expect::Any,
        )), // every failing field
        single(merge(
            2,
            MergeSpec {
                username: Some(pool("ANN")),
                ..no_merge.clone()
            },
            Expect::Any,
        )),
        // Replaces.
        single(replace(1, minimal(Src::Own(0), Src::Own(0)), Expect::Right)), // v4
        single(replace(
            1,
            ReplaceSpec {
                keep_nickname: true,
                keep_roles: true,
                keep_external_ids: true,
                keep_attributes: true,
                enabled: Some(true),
                tenant: TenantIn::Current,
                ..minimal(Src::Own(0), Src::Own(0))
            },
            Expect::Any,
        )), // the same document: still v4
        single(replace(
            1,
            ReplaceSpec {
                tenant: TenantIn::Given(Some("t2".into())),
                ..minimal(Src::Own(0), Src::Own(0))
            },
            Expect::Any,
        )),
        // Roles through patches.
        single(patch(2, vec![P::AddRole(IdRef::Raw(2))], Expect::Any)), // a t1 role
        single(patch(
            2,
            vec![P::AddRole(IdRef::Raw(1)), P::AddRole(IdRef::Raw(1))],
            Expect::Any,
        )), // v2, roles [1]
        single(patch(2, vec![P::RemoveRole(1)], Expect::Any)),
        // Scoped views.
        scoped("t2", patch(3, vec![P::Enabled(false)], Expect::Any)),
        scoped("t1", Step::DeleteUser(IdRef::Raw(1))),
        scoped(
            "t1",
            merge(
                3,
                MergeSpec {
                    username: Some(pool("ZOË")),
                    ..no_merge.clone()
                },
                Expect::Right,
            ),
        ), // v2
        scoped("t1", user("bob", "bob@x.io", Some("t2"), &[])),
        scoped("t1", user("bad name", "bob@x.io", Some("t2"), &[])),
        scoped("t1", user("Zoë", "zoë@x.io", None, &[])),
        Case {
            op: Op::Tx(
                vec![
                    patch(3, vec![P::Email(pool("bob@x.io"))], Expect::Any),
                    user("bob", "BOB@x.io", None, &[]),
                ],
                TxMode::Atomic,
                Some("t1"),
            ),
            seed: 7,
        },
        Case {
            op: Op::Tx(
                vec![
                    replace(3, minimal(Src::Own(0), pool("zoë@x.io")), Expect::Any),
                    Step::DeleteUser(IdRef::Raw(2)),
                ],
                TxMode::Swallow,
                Some("t1"),
            ),
            seed: 8,
        },
        single(Step::DeleteRole(IdRef::Raw(1), true)),
    ];
    let ran = run(&cases).unwrap_or_else(|e| panic!("{e}"));
    let outcomes: Vec<String> = ran.outcomes.iter().map(brief).collect();
    assert_eq!(
        outcomes,
        [
            "role 1 v1",
            "role 2 v1",
            "user 1 v1",
            "user 2 v1",
            "user 3 v1",
            "Conflict user username",
            "user 1 v2",
            "InvalidPatch 1",
            "InvalidPatch 1",
            "Validation tenant",
            "Validation tenant username",
            "user 1 v2",
            "VersionConflict 3 2",
            "user 1 v3",
            "user 1 v3",
            "Validation id",
            "Validation email hasPassword",
            "Conflict user username",
            "user 1 v4",
            "user 1 v4",
            "Validation tenant",
            "Validation roles",
            "user 2 v2",
            "InvalidPatch 0",
            "NotFound user",
            "NotFound user",
            "user 3 v2",
            "Validation tenant",
            "Validation tenant username",
            "Conflict user username",
            "user 3 v3",
            "Conflict user email",
            "user 3 v3",
            "NotFound user",
            "role 1 v1",
        ]
    );
    let m = &ran.model;
    let u1 = m.user_view(1);
    assert_eq!(
        (
            u1.first_name.as_str(),
            u1.nickname.clone(),
            u1.enabled,
            u1.external_ids.len(),
            u1.attributes.clone(),
            u1.version
        ),
        ("Ann", None, true, 0, json!({}), 4)
    );
    assert_eq!((m.users[&2].roles.len(), m.users[&2].version), (0, 3));
    let u3 = m.user_view(3);
    assert_eq!(
        (
            u3.username.as_str(),
            u3.email.as_str(),
            u3.tenant.as_deref(),
            u3.roles.len(),
            u3.version
        ),
        ("ZOË", "zoë@x.io", Some("t1"), 0, 3)
    );
    use ChangeOp::{Create as C, Delete as D, Update as U};
    use EntityKind::{Role as R, User as Us};
    assert_eq!(
        m.log,
        [
            (R, 1, C, 1),
            (R, 2, C, 1),
            (Us, 1, C, 1),
            (Us, 2, C, 1),
            (Us, 3, C, 1),
            (Us, 1, U, 2),
            (Us, 1, U, 3),
            (Us, 1, U, 4),
            (Us, 2, U, 2),
            (Us, 3, U, 2),
            (Us, 3, U, 3),
            (Us, 2, U, 3),
            (R, 1, D, 1),
        ]
    );
    let tenants: Vec<Option<&str>> = m.log_tenants.iter().map(Option::as_deref).collect();
    let (none, t) = (None, Some("t1"));
    assert_eq!(
        tenants,
        [
            none, t, none, none, t, none, none, none, none, t, t, none, none
        ]
    );
}
