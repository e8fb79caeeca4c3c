//! A live store and the oracle's model of it, kept together: every
//! generated population and change is made in the store and recorded, as
//! the store returned it, in the model.

use std::collections::{BTreeSet, HashSet};

use proptest::sample::Index;
use rosterdb::{NewClient, NewRole, NewUser, Store};
use serde_json::{Map, Value, json};

use crate::common;
use crate::generators::{
    CITIES, CLIENT_NAMES, ClientGen, DEPTS, DESCRIPTIONS, EMAIL_DOMAINS, EMAIL_LOCALS,
    EXTERNAL_IDS, FIRST_NAMES, IPS, LAST_NAMES, Mutation, NICKNAMES, PASSWORD_HASH, PCTS,
    PERMISSIONS, PHONES, Population, RANKS, ROLE_NAMES, RoleGen, TAGS, TENANTS, USERNAMES, UserGen,
    pick,
};
use crate::oracle::{Model, fold, id_of};
use crate::schema::Ent;

/// A live store plus the bookkeeping needed to build valid documents.
pub struct World {
    pub store: Store,
    pub model: Model,
    /// Bumped per generated user, to make clashing names unique.
    pub serial: usize,
}

pub fn tenant_key(t: Option<&str>) -> String {
    t.unwrap_or("").to_owned()
}

/// The keys a user document holds that must be unique per tenant.
pub fn unique_keys(doc: &Value) -> Vec<(String, String)> {
    let tk = tenant_key(doc.get("tenant").and_then(Value::as_str));
    let text = |k: &str| fold(doc[k].as_str().unwrap_or_default());
    let mut keys = vec![
        (tk.clone(), format!("u:{}", text("username"))),
        (tk.clone(), format!("e:{}", text("email"))),
    ];
    for x in doc["externalIds"].as_array().into_iter().flatten() {
        let part = |k: &str| fold(x[k].as_str().unwrap_or_default());
        keys.push((
            tk.clone(),
            format!("x:{}\u{0}{}", part("type"), part("value")),
        ));
    }
    keys
}

/// The value of one of the generated `attributes` keys: dept, rank, tags,
/// office or pct-off (slot 0–4).
pub fn attr_value(slot: usize, i: &Index) -> (&'static str, Value) {
    match slot {
        0 => ("dept", json!(pick(DEPTS, i))),
        1 => (
            "rank",
            serde_json::from_str(RANKS[i.index(RANKS.len())]).expect("rank literal"),
        ),
        2 => {
            let k = i.index(TAGS.len() + 3);
            let value = match k {
                0 => json!([]),
                1 => json!("vip"),
                2 => json!([1, 2]),
                _ => json!(
                    TAGS[..(k - 3) % TAGS.len() + 1]
                        .iter()
                        .skip((k - 3) % 2)
                        .collect::<Vec<_>>()
                ),
            };
            ("tags", value)
        }
        3 => {
            let k = i.index(8);
            let value = match k {
                0 => json!("remote"),
                1 => Value::Null,
                2 => json!({}),
                _ => json!({"floor": k as i64 - 4, "city": CITIES[k % CITIES.len()]}),
            };
            ("office", value)
        }
        _ => ("pct-off", json!(pick(PCTS, i))),
    }
}

impl World {
    pub fn new() -> World {
        let store = Store::memory_with(common::options()).expect("memory store");
        World {
            store,
            model: Model::default(),
            serial: 0,
        }
    }

    pub fn live(&self, ent: Ent) -> Vec<u64> {
        self.model
            .docs
            .get(&ent)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }

    pub fn roles_in(&self, tenant: Option<&str>) -> Vec<u64> {
        self.model
            .docs
            .get(&Ent::Role)
            .map(|m| {
                m.values()
                    .filter(|r| r.get("tenant").and_then(Value::as_str) == tenant)
                    .map(id_of)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The unique keys the live users hold: (tenant, kind:folded value).
    pub fn used(&self) -> HashSet<(String, String)> {
        self.model
            .docs(Ent::User)
            .into_iter()
            .flat_map(unique_keys)
            .collect()
    }

    pub fn record(&mut self, ent: Ent, doc: Value) {
        self.model
            .docs
            .entry(ent)
            .or_default()
            .insert(id_of(&doc), doc);
    }

    pub fn create_role(&mut self, g: &RoleGen) {
        self.serial += 1;
        let tenant = *pick(TENANTS, &g.tenant);
        let mut name = (*pick(ROLE_NAMES, &g.name)).to_owned();
        let clash = self.model.docs(Ent::Role).iter().any(|r| {
            r.get("tenant").and_then(Value::as_str) == tenant
                && fold(r["name"].as_str().unwrap_or_default()) == fold(&name)
        });
        if clash {
            name = format!("{name}{}", self.serial);
        }
        let mut doc = json!({"name": name});
        if let Some(d) = &g.description {
            doc["description"] = json!(pick(DESCRIPTIONS, d));
        }
        let perms: Vec<&str> = g
            .permissions
            .iter()
            .map(|i| *pick(PERMISSIONS, i))
            .collect();
        doc["permissions"] = json!(perms);
        if let Some(t) = tenant {
            doc["tenant"] = json!(t);
        }
        let new = NewRole::from_json(&doc).expect("valid role");
        let role = self.store.roles().create(new).expect("role created");
        self.record(Ent::Role, serde_json::to_value(&role).expect("json"));
    }

    /// A valid user document for `g` (its username, email and external ids
    /// made unique against `used`) and the unique keys it takes.
    pub fn user_doc(
        &mut self,
        g: &UserGen,
        used: &HashSet<(String, String)>,
    ) -> (Value, Vec<(String, String)>) {
        self.serial += 1;
        let n = self.serial;
        let tenant = *pick(TENANTS, &g.tenant);
        let tk = tenant_key(tenant);
        let free = |kind: &str, text: &str| {
            !used.contains(&(tk.clone(), format!("{kind}:{}", fold(text))))
        };
        let base = *pick(USERNAMES, &g.username);
        let username = [
            base.to_owned(),
            format!("{base}{n}"),
            format!("{base}.{n}.{n}"),
        ]
        .into_iter()
        .find(|u| free("u", u))
        .expect("a free username");
        let (local, domain) = (
            pick(EMAIL_LOCALS, &g.email.0),
            pick(EMAIL_DOMAINS, &g.email.1),
        );
        let email = [
            format!("{local}@{domain}"),
            format!("{local}{n}@{domain}"),
            format!("{local}.{n}.{n}@{domain}"),
        ]
        .into_iter()
        .find(|e| free("e", e))
        .expect("a free email");
        let mut doc = json!({
            "username": username,
            "email": email,
            "firstName": pick(FIRST_NAMES, &g.first),
            "lastName": pick(LAST_NAMES, &g.last),
            "enabled": g.enabled,
        });
        let mut keys = vec![
            (tk.clone(), format!("u:{}", fold(&username))),
            (tk.clone(), format!("e:{}", fold(&email))),
        ];
        if let Some(i) = &g.nickname {
            doc["nickname"] = json!(pick(NICKNAMES, i));
        }
        if let Some(i) = &g.phone {
            doc["telephoneNumber"] = json!(pick(PHONES, i));
        }
        if let Some(i) = &g.mobile {
            doc["mobileNumber"] = json!(pick(PHONES, i));
        }
        if let Some(t) = tenant {
            doc["tenant"] = json!(t);
        }
        let roles = self.roles_in(tenant);
        if !roles.is_empty() {
            let chosen: BTreeSet<u64> = g.roles.iter().map(|i| *pick(&roles, i)).collect();
            doc["roles"] = json!(chosen);
        }
        let mut ext = Vec::new();
        for i in &g.external {
            let (ty, value) = pick(EXTERNAL_IDS, i);
            let key = (tk.clone(), format!("x:{}\u{0}{}", fold(ty), fold(value)));
            if !used.contains(&key) && !keys.contains(&key) {
                keys.push(key);
                ext.push(json!({"type": ty, "value": value}));
            }
        }
        if !ext.is_empty() || n.is_multiple_of(2) {
            doc["externalIds"] = json!(ext);
        }
        let mut attrs = Map::new();
        for (slot, choice) in g.attrs.iter().enumerate() {
            if let Some(i) = choice {
                let (key, value) = attr_value(slot, i);
                attrs.insert(key.into(), value);
            }
        }
        if !attrs.is_empty() || n.is_multiple_of(3) {
            doc["attributes"] = Value::Object(attrs);
        }
        if g.password {
            doc["passwordHash"] = json!(PASSWORD_HASH);
        }
        (doc, keys)
    }

    pub fn create_user(&mut self, g: &UserGen) -> u64 {
        let used = self.used();
        let (doc, _) = self.user_doc(g, &used);
        let new = NewUser::from_json(&doc).unwrap_or_else(|e| panic!("{doc}: {e:?}"));
        let user = self
            .store
            .users()
            .create(new)
            .unwrap_or_else(|e| panic!("{doc}: {e:?}"));
        self.record(Ent::User, serde_json::to_value(&user).expect("json"));
        user.id
    }

    /// Creates many users in one transaction (much faster than one each).
    pub fn create_users_bulk(&mut self, gens: &[UserGen]) {
        let mut used = self.used();
        let mut docs = Vec::new();
        for g in gens {
            let (doc, keys) = self.user_doc(g, &used);
            used.extend(keys.iter().cloned());
            docs.push((doc, keys));
        }
        let users = self
            .store
            .write(|tx| {
                docs.iter()
                    .map(|(doc, _)| tx.users().create(NewUser::from_json(doc)?))
                    .collect::<rosterdb::Result<Vec<_>>>()
            })
            .expect("users created");
        for user in users {
            self.record(Ent::User, serde_json::to_value(&user).expect("json"));
        }
    }

    pub fn create_client(&mut self, g: &ClientGen) {
        let tenant = *pick(TENANTS, &g.tenant);
        let mut doc = json!({"name": pick(CLIENT_NAMES, &g.name), "enabled": g.enabled});
        if let Some(d) = &g.description {
            doc["description"] = json!(pick(DESCRIPTIONS, d));
        }
        if let Some(t) = tenant {
            doc["tenant"] = json!(t);
        }
        let roles = self.roles_in(tenant);
        if !roles.is_empty() {
            let chosen: BTreeSet<u64> = g.roles.iter().map(|i| *pick(&roles, i)).collect();
            doc["roles"] = json!(chosen);
        }
        let ips: BTreeSet<&str> = g.ips.iter().map(|i| *pick(IPS, i)).collect();
        doc["ipAllowlist"] = json!(ips);
        let new = NewClient::from_json(&doc).expect("valid client");
        let created = self.store.clients().create(new).expect("client created");
        self.record(
            Ent::Client,
            serde_json::to_value(&created.client).expect("json"),
        );
    }

    pub fn delete_user(&mut self, id: u64) {
        self.store.users().delete(id).expect("user deleted");
        self.model.docs.entry(Ent::User).or_default().remove(&id);
    }

    /// Changes some fields of a user with a merge patch (docs/reference/updates.md); a
    /// refused change (a username taken) leaves it as it was.
    pub fn update_user(&mut self, id: u64, g: &UserGen, mask: u8) {
        let tenant = self.model.docs[&Ent::User][&id]
            .get("tenant")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut partial = Map::new();
        let mut set = |bit: u8, key: &str, value: Value| {
            if mask & bit != 0 {
                partial.insert(key.to_owned(), value);
            }
        };
        set(1, "firstName", json!(pick(FIRST_NAMES, &g.first)));
        set(2, "lastName", json!(pick(LAST_NAMES, &g.last)));
        set(
            4,
            "nickname",
            g.nickname
                .as_ref()
                .map_or(Value::Null, |i| json!(pick(NICKNAMES, i))),
        );
        set(8, "enabled", json!(g.enabled));
        let mut attrs = Map::new();
        for (slot, choice) in g.attrs.iter().enumerate() {
            match choice {
                Some(i) => {
                    let (key, value) = attr_value(slot, i);
                    attrs.insert(key.into(), value);
                }
                // Removes the key (a merge patch's null).
                None if slot % 2 == 0 => {
                    attrs.insert(attr_value(slot, &g.first).0.into(), Value::Null);
                }
                None => {}
            }
        }
        set(16, "attributes", Value::Object(attrs));
        let roles = self.roles_in(tenant.as_deref());
        let chosen: BTreeSet<u64> = if roles.is_empty() {
            BTreeSet::new()
        } else {
            g.roles.iter().map(|i| *pick(&roles, i)).collect()
        };
        set(32, "roles", json!(chosen));
        set(
            64,
            "telephoneNumber",
            g.phone
                .as_ref()
                .map_or(Value::Null, |i| json!(pick(PHONES, i))),
        );
        if mask & 0xC0 == 0xC0 {
            // Sometimes taken already: a Conflict, and nothing changes.
            partial.insert("username".into(), json!(pick(USERNAMES, &g.username)));
        }
        if partial.is_empty() {
            partial.insert("lastName".into(), json!(pick(LAST_NAMES, &g.last)));
        }
        let partial = Value::Object(partial);
        match self.store.users().merge(id, &partial, None) {
            Ok(user) => self.record(Ent::User, serde_json::to_value(&user).expect("json")),
            Err(rosterdb::Error::Conflict { .. }) => {}
            Err(e) => panic!("merge {partial} into user {id}: {e:?}"),
        }
    }

    pub fn update_role(&mut self, id: u64, g: &RoleGen) {
        let perms: BTreeSet<&str> = g
            .permissions
            .iter()
            .map(|i| *pick(PERMISSIONS, i))
            .collect();
        let mut partial = json!({
            "description": g.description.as_ref().map_or(Value::Null, |d| json!(pick(DESCRIPTIONS, d))),
            "permissions": perms,
        });
        if g.name.index(3) == 0 {
            partial["name"] = json!(pick(ROLE_NAMES, &g.name));
        }
        match self.store.roles().merge(id, &partial, None) {
            Ok(role) => self.record(Ent::Role, serde_json::to_value(&role).expect("json")),
            Err(rosterdb::Error::Conflict { .. }) => {}
            Err(e) => panic!("merge {partial} into role {id}: {e:?}"),
        }
    }

    pub fn update_client(&mut self, id: u64, g: &ClientGen) {
        let ips: BTreeSet<&str> = g.ips.iter().map(|i| *pick(IPS, i)).collect();
        let partial = json!({
            "name": pick(CLIENT_NAMES, &g.name),
            "enabled": g.enabled,
            "description": g.description.as_ref().map_or(Value::Null, |d| json!(pick(DESCRIPTIONS, d))),
            "ipAllowlist": ips,
        });
        let client = self
            .store
            .clients()
            .merge(id, &partial, None)
            .unwrap_or_else(|e| panic!("merge {partial} into client {id}: {e:?}"));
        self.record(Ent::Client, serde_json::to_value(&client).expect("json"));
    }

    pub fn delete_client(&mut self, id: u64) {
        self.store.clients().delete(id).expect("client deleted");
        self.model.docs.entry(Ent::Client).or_default().remove(&id);
    }

    pub fn delete_role(&mut self, id: u64) {
        self.store.roles().delete(id, true).expect("role deleted");
        self.model.docs.entry(Ent::Role).or_default().remove(&id);
        self.refresh();
    }

    /// Re-reads every live document (a cascade changes its holders).
    pub fn refresh(&mut self) {
        for id in self.live(Ent::User) {
            let doc = serde_json::to_value(self.store.users().get(id).expect("live user"));
            self.record(Ent::User, doc.expect("json"));
        }
        for id in self.live(Ent::Client) {
            let doc = serde_json::to_value(self.store.clients().get(id).expect("live client"));
            self.record(Ent::Client, doc.expect("json"));
        }
    }

    pub fn apply(&mut self, m: &Mutation) {
        match m {
            Mutation::CreateUser(g) => {
                self.create_user(g);
            }
            Mutation::DeleteUser(i) => {
                let live = self.live(Ent::User);
                if !live.is_empty() {
                    self.delete_user(*pick(&live, i));
                }
            }
            Mutation::RecreateUser(i, g) => {
                let live = self.live(Ent::User);
                if !live.is_empty() {
                    self.delete_user(*pick(&live, i));
                    self.create_user(g);
                }
            }
            Mutation::DeleteRole(i) => {
                let live = self.live(Ent::Role);
                if !live.is_empty() {
                    self.delete_role(*pick(&live, i));
                }
            }
            Mutation::CreateRole(g) => self.create_role(g),
            Mutation::DeleteClient(i) => {
                let live = self.live(Ent::Client);
                if !live.is_empty() {
                    self.delete_client(*pick(&live, i));
                }
            }
            Mutation::CreateClient(g) => self.create_client(g),
            Mutation::UpdateUser(i, g, mask) => {
                let live = self.live(Ent::User);
                if !live.is_empty() {
                    self.update_user(*pick(&live, i), g, *mask);
                }
            }
            Mutation::UpdateRole(i, g) => {
                let live = self.live(Ent::Role);
                if !live.is_empty() {
                    self.update_role(*pick(&live, i), g);
                }
            }
            Mutation::UpdateClient(i, g) => {
                let live = self.live(Ent::Client);
                if !live.is_empty() {
                    self.update_client(*pick(&live, i), g);
                }
            }
        }
    }
}

pub fn build(p: &Population) -> World {
    let mut w = World::new();
    for g in &p.roles {
        w.create_role(g);
    }
    if p.users.len().is_multiple_of(2) {
        w.create_users_bulk(&p.users);
    } else {
        for g in &p.users {
            w.create_user(g);
        }
    }
    for g in &p.clients {
        w.create_client(g);
    }
    w
}
