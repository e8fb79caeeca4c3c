//! The read-only checks after a kill: every acknowledged write is there
//! and unchanged, the call in flight is all there or not at all, the
//! change log agrees with the records and with the model, sessions and
//! tokens are as acknowledged, and `check()` is clean.

use std::collections::{BTreeMap, BTreeSet};

use rosterdb::{EntityKind, Error, Store};
use serde_json::Value;

use crate::error::{self, Result};
use crate::model::{self, Model};
use crate::predicates::{self, State, brief};
use crate::protocol::{self, Effect, LoginEffect};
use crate::snapshot::{self, Entry, Key, Op, Snapshot};

/// What became of the call in flight at the kill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InFlight {
    /// No call was in flight.
    None,
    /// It committed, whole.
    Applied,
    /// It left no trace.
    NotApplied,
    /// A failed login, whose only trace (the failure count) the probe
    /// tells ([`crate::probe::failures`]).
    Unknown,
}

/// What the checks found.
#[derive(Clone, Debug)]
pub struct Findings {
    /// Every problem, one line each: a lost or changed acknowledged write,
    /// a half-applied call, a change log or index that disagrees.
    pub problems: Vec<String>,
    /// What became of the call in flight.
    pub inflight: InFlight,
    /// Ids of the records the call in flight created (when applied).
    pub created: Vec<u64>,
    /// Acknowledged records compared with the store.
    pub records: u64,
    /// Live sessions of each user the model follows, as found.
    pub sessions: BTreeMap<u64, usize>,
}

/// Runs every read-only check of `store` against `model`, with `inflight`
/// the effect of the call announced and not acknowledged, if any.
pub fn verify(store: &Store, model: &Model, inflight: Option<&Effect>) -> Result<Findings> {
    let snap = snapshot::read(store)?;
    let mut findings = Findings {
        problems: snap.log_problems.clone(),
        inflight: InFlight::None,
        created: Vec::new(),
        records: 0,
        sessions: BTreeMap::new(),
    };
    let touched = match inflight {
        Some(effect) => classify(effect, model, &snap, &mut findings),
        None => BTreeSet::new(),
    };
    compare_docs(model, &snap, &touched, &mut findings);
    compare_log(model, &snap, inflight, &mut findings);
    log_agrees(&snap, &mut findings.problems);
    sessions_and_tokens(store, model, inflight, &mut findings)?;
    let report = store.check().map_err(error::store("check"))?;
    if !report.ok {
        findings
            .problems
            .extend(report.problems.into_iter().map(|p| format!("check(): {p}")));
    }
    Ok(findings)
}

/// Decides whether the call in flight applied, recording a problem when
/// its parts disagree or one is half there; returns the records it
/// touches (compared here rather than with the model).
fn classify(effect: &Effect, model: &Model, snap: &Snapshot, out: &mut Findings) -> BTreeSet<Key> {
    let mut touched = BTreeSet::new();
    let mut states: Vec<(String, State)> = Vec::new();
    for create in &effect.creates {
        let field = protocol::key_field(create.kind);
        let found = snap.docs.iter().find(|(key, doc)| {
            key.0 == create.kind
                && !model.docs.contains_key(key)
                && doc.get(field).and_then(Value::as_str) == Some(create.key.as_str())
        });
        let state = predicates::created(create, found.map(|(_, d)| d));
        if let (State::Applied, Some((key, _))) = (&state, found) {
            out.created.push(key.1);
        }
        states.push((format!("create {} {}", create.kind, create.key), state));
    }
    for update in &effect.updates {
        let key = (update.kind, update.id);
        touched.insert(key);
        let state = match model.docs.get(&key) {
            Some(before) => predicates::updated(update, before, snap.docs.get(&key)),
            None => State::Neither(format!("the model has no {} {}", key.0, key.1)),
        };
        states.push((format!("update {} {}", key.0, key.1), state));
    }
    for delete in &effect.deletes {
        let key = (delete.kind, delete.id);
        touched.insert(key);
        let state = match model.docs.get(&key) {
            Some(before) => predicates::deleted(before, snap.docs.get(&key)),
            None => State::Neither(format!("the model has no {} {}", key.0, key.1)),
        };
        states.push((format!("delete {} {}", key.0, key.1), state));
    }
    let login = match effect.login {
        Some(LoginEffect::User { user }) => Some(((EntityKind::User, user), "lastLoginAt")),
        Some(LoginEffect::Client { client }) => Some(((EntityKind::Client, client), "lastUsedAt")),
        Some(LoginEffect::Failed { .. }) | None => None,
    };
    if let Some((key, field)) = login {
        touched.insert(key);
        let state = match model.docs.get(&key) {
            Some(before) => predicates::logged_in(field, before, snap.docs.get(&key)),
            None => State::Neither(format!("the model has no {} {}", key.0, key.1)),
        };
        states.push((format!("login of {} {}", key.0, key.1), state));
    }
    out.inflight = consensus(&states, &mut out.problems);
    if out.inflight != InFlight::Applied {
        out.created.clear();
    }
    touched
}

/// All parts applied, or none; a problem otherwise.
fn consensus(states: &[(String, State)], problems: &mut Vec<String>) -> InFlight {
    if states.is_empty() {
        return InFlight::Unknown;
    }
    let mut applied = Vec::new();
    let mut not = Vec::new();
    for (what, state) in states {
        match state {
            State::Applied => applied.push(what.as_str()),
            State::NotApplied => not.push(what.as_str()),
            State::Neither(why) => problems.push(format!("in-flight write half applied: {why}")),
        }
    }
    match (applied.is_empty(), not.is_empty()) {
        (false, true) => InFlight::Applied,
        (true, false) => InFlight::NotApplied,
        _ => {
            problems.push(format!(
                "in-flight write half applied: applied {applied:?}, not applied {not:?}"
            ));
            InFlight::NotApplied
        }
    }
}

/// Every acknowledged record not touched by the call in flight is in the
/// store exactly as acknowledged, and the store holds no other record.
fn compare_docs(model: &Model, snap: &Snapshot, touched: &BTreeSet<Key>, out: &mut Findings) {
    for (key, doc) in &model.docs {
        if touched.contains(key) {
            continue;
        }
        out.records = out.records.saturating_add(1);
        match snap.docs.get(key) {
            None => out.problems.push(format!(
                "lost: {} {} was acknowledged and is missing",
                key.0, key.1
            )),
            Some(found) if found != doc => out.problems.push(format!(
                "changed: {} {} is {} but {} was acknowledged",
                key.0,
                key.1,
                brief(found),
                brief(doc)
            )),
            Some(_) => {}
        }
    }
    let created: BTreeSet<u64> = out.created.iter().copied().collect();
    for (key, doc) in &snap.docs {
        let created_now = out.inflight == InFlight::Applied && created.contains(&key.1);
        if !model.docs.contains_key(key) && !touched.contains(key) && !created_now {
            out.problems.push(format!(
                "unexpected: {} {} was never acknowledged: {}",
                key.0,
                key.1,
                brief(doc)
            ));
        }
    }
}

/// Sorted, for comparing a group of entries in any order.
fn sorted(entries: &[Entry]) -> Vec<Entry> {
    let mut out = entries.to_vec();
    out.sort();
    out
}

/// The change log is the verified log, then each acknowledged write's
/// entries in order, then the call in flight's entries if it applied.
fn compare_log(model: &Model, snap: &Snapshot, inflight: Option<&Effect>, out: &mut Findings) {
    let log = &snap.changes;
    let mut pos = model.confirmed.len();
    if log.get(..pos) != Some(model.confirmed.as_slice()) {
        out.problems.push(format!(
            "change log: the {pos} verified entries are not its start ({} entries now)",
            log.len()
        ));
        return;
    }
    for group in &model.pending {
        let end = pos.saturating_add(group.len());
        let found = log.get(pos..end).map(sorted);
        if found.as_deref() != Some(group.as_slice()) {
            out.problems.push(format!(
                "change log: entries {pos}..{end} are {found:?}, acknowledged {}",
                group
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return;
        }
        pos = end;
    }
    let rest = sorted(log.get(pos..).unwrap_or_default());
    let expected = match (inflight, out.inflight) {
        (Some(effect), InFlight::Applied) => model::entries(effect, &out.created, &model.docs),
        _ => Vec::new(),
    };
    if rest != expected {
        out.problems.push(format!(
            "change log: after the acknowledged entries come {:?}, expected {:?}",
            rest, expected
        ));
    }
}

/// Each record's last change-log entry names its version, and each
/// record whose last entry is a delete is gone.
fn log_agrees(snap: &Snapshot, problems: &mut Vec<String>) {
    let mut last: BTreeMap<Key, Entry> = BTreeMap::new();
    for entry in &snap.changes {
        last.insert((entry.kind, entry.id), *entry);
    }
    for (key, doc) in &snap.docs {
        match last.get(key) {
            Some(entry)
                if entry.op != Op::Delete && Some(entry.version) == predicates::version(doc) => {}
            other => problems.push(format!(
                "change log: {} {} (version {:?}) has last entry {other:?}",
                key.0,
                key.1,
                predicates::version(doc)
            )),
        }
    }
    for (key, entry) in &last {
        if entry.op != Op::Delete && !snap.docs.contains_key(key) {
            problems.push(format!(
                "change log: {} {} was not deleted but is missing",
                key.0, key.1
            ));
        }
    }
}

/// Acknowledged tokens authenticate as their holder, revoked ones fail,
/// and each followed user has the sessions acknowledged.
fn sessions_and_tokens(
    store: &Store,
    model: &Model,
    inflight: Option<&Effect>,
    out: &mut Findings,
) -> Result<()> {
    let applied = out.inflight == InFlight::Applied;
    let deleted: BTreeSet<Key> = inflight
        .filter(|_| applied)
        .map(|e| e.deletes.iter().map(|d| (d.kind, d.id)).collect())
        .unwrap_or_default();
    let mut expected = model.sessions.clone();
    if let Some(LoginEffect::User { user }) = inflight.and_then(|e| e.login) {
        let count = expected.entry(user).or_insert(0);
        if applied {
            *count = count.saturating_add(1);
        }
    }
    let problems = &mut out.problems;
    let sessions = &mut out.sessions;
    store
        .read(|tx| {
            for (token, holder) in &model.tokens {
                let want = !deleted.contains(holder);
                let got = match tx.authenticate(token) {
                    Ok(p) if (p.kind, p.id) == *holder => true,
                    Ok(p) => {
                        problems.push(format!(
                            "a token of {} {} authenticates as {} {}",
                            holder.0, holder.1, p.kind, p.id
                        ));
                        continue;
                    }
                    Err(Error::InvalidToken) => false,
                    Err(e) => return Err(e),
                };
                if got != want {
                    problems.push(format!(
                        "a session of {} {} is {} but must be {}",
                        holder.0,
                        holder.1,
                        if got { "live" } else { "gone" },
                        if want { "live" } else { "gone" }
                    ));
                }
            }
            for token in &model.revoked {
                match tx.authenticate(token) {
                    Err(Error::InvalidToken) => {}
                    Ok(p) => problems.push(format!(
                        "a revoked session of {} {} authenticates",
                        p.kind, p.id
                    )),
                    Err(e) => return Err(e),
                }
            }
            for (&user, &count) in &expected {
                if deleted.contains(&(EntityKind::User, user)) {
                    continue;
                }
                let found = tx.users().sessions(user)?.len();
                if found != count {
                    problems.push(format!(
                        "user {user} has {found} sessions, {count} acknowledged"
                    ));
                }
                sessions.insert(user, found);
            }
            Ok(())
        })
        .map_err(error::store("reading sessions"))
}

#[cfg(test)]
mod tests {
    use rosterdb::{Credentials, NewRole, NewUser, Role, Secret};
    use serde_json::json;

    use super::*;
    use crate::protocol::{Create, Doc, Update};

    fn store() -> Store {
        Store::memory_with(protocol::options()).unwrap()
    }

    fn create_role(name: &str) -> Effect {
        Effect {
            creates: vec![Create {
                kind: EntityKind::Role,
                key: name.into(),
                expect: json!({"name": name, "permissions": []}),
            }],
            ..Effect::default()
        }
    }

    fn role_doc(role: &Role) -> Doc {
        Doc {
            kind: EntityKind::Role,
            doc: serde_json::to_value(role).unwrap(),
        }
    }

    /// A role created in `store` and acknowledged in `model`.
    fn acked_role(store: &Store, model: &mut Model, name: &str) -> Role {
        let role = store.roles().create(NewRole::new(name)).unwrap();
        model
            .acknowledge(&create_role(name), &[role_doc(&role)], None)
            .unwrap();
        role
    }

    fn problems(store: &Store, model: &Model, inflight: Option<&Effect>) -> Vec<String> {
        verify(store, model, inflight).unwrap().problems
    }

    #[test]
    fn a_store_that_holds_every_acknowledged_write_passes() {
        let (store, mut model) = (store(), Model::default());
        acked_role(&store, &mut model, "a");
        acked_role(&store, &mut model, "b");
        let findings = verify(&store, &model, None).unwrap();
        assert_eq!(findings.problems, Vec::<String>::new());
        assert_eq!(findings.records, 2);
        assert_eq!(findings.inflight, InFlight::None);
    }

    #[test]
    fn a_wrong_expectation_is_reported_as_a_change() {
        let (store, mut model) = (store(), Model::default());
        let role = acked_role(&store, &mut model, "a");
        let doc = model.docs.get_mut(&(EntityKind::Role, role.id)).unwrap();
        doc["description"] = json!("what the store never wrote");
        let found = problems(&store, &model, None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("changed: role 1"), "{found:?}");
    }

    #[test]
    fn an_acknowledged_write_missing_from_the_store_is_reported_lost() {
        let (store, mut model) = (store(), Model::default());
        acked_role(&store, &mut model, "a");
        // Acknowledged, but written to another store: lost from this one.
        let elsewhere = self::store();
        elsewhere.roles().create(NewRole::new("x")).unwrap();
        let ghost = elsewhere.roles().create(NewRole::new("b")).unwrap();
        model
            .acknowledge(&create_role("b"), &[role_doc(&ghost)], None)
            .unwrap();
        let found = problems(&store, &model, None);
        assert!(
            found.iter().any(|p| p.starts_with("lost: role 2")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.starts_with("change log")),
            "{found:?}"
        );
    }

    #[test]
    fn a_record_never_acknowledged_is_reported() {
        let (store, model) = (store(), Model::default());
        store.roles().create(NewRole::new("stray")).unwrap();
        let found = problems(&store, &model, None);
        assert!(
            found.iter().any(|p| p.starts_with("unexpected: role 1")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.starts_with("change log")),
            "{found:?}"
        );
    }

    #[test]
    fn a_lost_change_log_entry_is_reported() {
        let (store, mut model) = (store(), Model::default());
        let role = acked_role(&store, &mut model, "a");
        model.pending.push(vec![Entry {
            kind: EntityKind::Role,
            id: role.id,
            op: Op::Update,
            version: 2,
        }]);
        let found = problems(&store, &model, None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("change log"), "{found:?}");
    }

    fn two_roles() -> Effect {
        let mut effect = create_role("x");
        effect.creates.extend(create_role("y").creates);
        effect
    }

    #[test]
    fn a_write_in_flight_applied_whole_or_not_at_all_passes() {
        let (store, mut model) = (store(), Model::default());
        acked_role(&store, &mut model, "a");
        let effect = two_roles();
        let findings = verify(&store, &model, Some(&effect)).unwrap();
        assert_eq!(findings.problems, Vec::<String>::new());
        assert_eq!(findings.inflight, InFlight::NotApplied);
        store
            .write(|tx| {
                tx.roles().create(NewRole::new("x"))?;
                tx.roles().create(NewRole::new("y"))
            })
            .unwrap();
        let findings = verify(&store, &model, Some(&effect)).unwrap();
        assert_eq!(findings.problems, Vec::<String>::new());
        assert_eq!(findings.inflight, InFlight::Applied);
        assert_eq!(findings.created, [2, 3]);
    }

    #[test]
    fn half_a_transaction_is_reported() {
        let (store, mut model) = (store(), Model::default());
        acked_role(&store, &mut model, "a");
        store.roles().create(NewRole::new("x")).unwrap();
        let found = problems(&store, &model, Some(&two_roles()));
        assert!(
            found.iter().any(|p| p.contains("half applied")),
            "{found:?}"
        );
    }

    #[test]
    fn an_update_with_its_version_but_not_its_fields_is_reported() {
        let (store, mut model) = (store(), Model::default());
        let role = acked_role(&store, &mut model, "a");
        let effect = Effect {
            updates: vec![Update {
                kind: EntityKind::Role,
                id: role.id,
                version: 2,
                expect: json!({"description": "new"}),
            }],
            ..Effect::default()
        };
        store
            .roles()
            .merge(role.id, &json!({"description": "other"}), None)
            .unwrap();
        let found = problems(&store, &model, Some(&effect));
        assert!(
            found.iter().any(|p| p.contains("half applied")),
            "{found:?}"
        );
        // The same update written as announced passes as applied.
        store
            .roles()
            .merge(role.id, &json!({"description": "new"}), None)
            .unwrap();
        let mut effect = effect;
        effect.updates[0].version = 3;
        let findings = verify(&store, &model, Some(&effect)).unwrap();
        assert_eq!(findings.inflight, InFlight::Applied);
        // The change log holds two updates where the effect makes one.
        assert!(
            findings
                .problems
                .iter()
                .all(|p| p.starts_with("change log"))
        );
        assert_eq!(findings.problems.len(), 1, "{:?}", findings.problems);
    }

    #[test]
    fn a_failure_count_other_than_acknowledged_is_reported() {
        let (store, mut model) = (store(), Model::default());
        let user = store
            .users()
            .create(NewUser {
                password: Some(Secret::new("a-long-password")),
                ..NewUser::new("u", "u@example.com", "U", "V")
            })
            .unwrap();
        model.docs.insert(
            (EntityKind::User, user.id),
            serde_json::to_value(&user).unwrap(),
        );
        // One failure acknowledged that the store never counted.
        model.failures.insert(user.id, 1);
        let mut found = Vec::new();
        crate::probe::failures(&store, &model, None, InFlight::None, &mut found).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("locked after 3 failures; 1 were acknowledged"),
            "{found:?}"
        );
        // Counted as acknowledged: no problem (on a fresh user).
        let other = store
            .users()
            .create(NewUser {
                password: Some(Secret::new("a-long-password")),
                ..NewUser::new("w", "w@example.com", "U", "V")
            })
            .unwrap();
        let wrong = Credentials::new("w", "wrong-password");
        assert!(store.login(&wrong, protocol::SESSION_TTL).is_err());
        let mut model = Model::default();
        model.docs.insert(
            (EntityKind::User, other.id),
            serde_json::to_value(&other).unwrap(),
        );
        model.failures.insert(other.id, 1);
        let mut found = Vec::new();
        crate::probe::failures(&store, &model, None, InFlight::None, &mut found).unwrap();
        assert_eq!(found, Vec::<String>::new());
    }
}
