//! The in-memory tenant.
//!
//! Objects are stored compactly: a JSON object holding only the properties that are set (the
//! renderer fills every other declared property with `null`/`[]`). Collections are `BTreeMap`s
//! keyed by the lower-case id, which gives paging its id order for free and lets a skiptoken
//! resume with a range query even if objects were added or removed between pages.
//!
//! Beside each collection sits a recycle bin of the same shape: a soft delete moves an object
//! there (stamped with `deletedDateTime`) and a restore moves it back under the same id. The
//! directory keeps an object's relationships while it sits in the bin and restores them with
//! it, so deleting one unlinks it from groups, owners and app role assignments but remembers
//! those links ([`Severed`]) for the restore.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::rng::{mix, write_time, Rng};

/// Salt for ids the emulator mints for created objects, so they never repeat seed ids.
const MINT_SALT: u64 = 0x4D49_4E54_4544_4944;

/// A top-level collection the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Users,
    Groups,
    Applications,
    ServicePrincipals,
    ConditionalAccessPolicies,
    NamedLocations,
}

impl Kind {
    pub(crate) const ALL: [Kind; 6] = [
        Kind::Users,
        Kind::Groups,
        Kind::Applications,
        Kind::ServicePrincipals,
        Kind::ConditionalAccessPolicies,
        Kind::NamedLocations,
    ];

    /// The name tests use with [`Tenant::collection_mut`].
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Groups => "groups",
            Kind::Applications => "applications",
            Kind::ServicePrincipals => "servicePrincipals",
            Kind::ConditionalAccessPolicies => "conditionalAccessPolicies",
            Kind::NamedLocations => "namedLocations",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The entity set path below `/v1.0`, also used in `@odata.context`.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Kind::ConditionalAccessPolicies => "identity/conditionalAccess/policies",
            Kind::NamedLocations => "identity/conditionalAccess/namedLocations",
            other => other.name(),
        }
    }

    /// The declared (base) Graph type of the collection's items.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Kind::Users => "user",
            Kind::Groups => "group",
            Kind::Applications => "application",
            Kind::ServicePrincipals => "servicePrincipal",
            Kind::ConditionalAccessPolicies => "conditionalAccessPolicy",
            Kind::NamedLocations => "namedLocation",
        }
    }

    /// Directory objects: GUID ids, no `$skip`, `$count` only as an advanced query.
    pub(crate) fn is_directory_object(self) -> bool {
        !matches!(self, Kind::ConditionalAccessPolicies | Kind::NamedLocations)
    }

    /// The directory object kinds, in the order ids are resolved.
    pub(crate) const DIRECTORY: [Kind; 4] = [
        Kind::Users,
        Kind::Groups,
        Kind::ServicePrincipals,
        Kind::Applications,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// A relationship the store keeps beside the objects: parent id → set of related ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    GroupMembers,
    GroupOwners,
    AppOwners,
    SpOwners,
}

impl Relation {
    pub(crate) const ALL: [Relation; 4] = [
        Relation::GroupMembers,
        Relation::GroupOwners,
        Relation::AppOwners,
        Relation::SpOwners,
    ];

    /// The kind of object that holds the relationship.
    pub(crate) fn parent(self) -> Kind {
        match self {
            Relation::GroupMembers | Relation::GroupOwners => Kind::Groups,
            Relation::AppOwners => Kind::Applications,
            Relation::SpOwners => Kind::ServicePrincipals,
        }
    }

    /// The navigation property's name, as Graph's `$ref` errors quote it.
    pub(crate) fn property(self) -> &'static str {
        match self {
            Relation::GroupMembers => "members",
            _ => "owners",
        }
    }
}

/// The links a soft delete cut, kept so that a restore can put them back.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Severed {
    /// `(relation, parent id, related id)`.
    links: Vec<(Relation, String, String)>,
    /// `(resource service principal id, appRoleAssignment)`.
    assignments: Vec<(String, Value)>,
}

/// Where [`Tenant::delete`] put an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Restorable from the recycle bin under the same id.
    RecycleBin,
    /// Gone for good, as security groups are.
    Permanent,
}

/// The directory state a Graph emulator serves. Tests reach it through
/// `EmulatorHandle::tenant` and may change anything; the next request sees the change.
pub struct Tenant {
    collections: [BTreeMap<String, Value>; 6],
    /// Soft-deleted objects per kind, keyed like `collections`.
    recycle_bins: [BTreeMap<String, Value>; 6],
    /// Deleted object id → the links its deletion cut.
    severed: BTreeMap<String, Severed>,
    /// Writes so far: the clock for server-set timestamps.
    writes: u64,
    /// Ids minted so far for created objects and assignments.
    minted: u64,
    /// Group id → ids of its members (users, groups, service principals).
    pub group_members: BTreeMap<String, BTreeSet<String>>,
    /// Group id → ids of its owners (users, service principals).
    pub group_owners: BTreeMap<String, BTreeSet<String>>,
    /// Application object id → owner ids.
    pub app_owners: BTreeMap<String, BTreeSet<String>>,
    /// Service principal id → owner ids.
    pub sp_owners: BTreeMap<String, BTreeSet<String>>,
    /// Resource service principal id → its appRoleAssignment objects (`appRoleAssignedTo`).
    pub app_role_assigned_to: BTreeMap<String, Vec<Value>>,
    /// `/policies/authenticationMethodsPolicy`, with `authenticationMethodConfigurations`
    /// inline (each with its `@odata.type` and `includeTargets`).
    pub auth_methods_policy: Value,
    /// `/policies/authorizationPolicy`.
    pub authorization_policy: Value,
    /// `/auditLogs/directoryAudits`, by id: who changed what, when.
    pub directory_audits: BTreeMap<String, Value>,
}

impl Tenant {
    pub(crate) fn new() -> Tenant {
        Tenant {
            collections: Default::default(),
            recycle_bins: Default::default(),
            severed: BTreeMap::new(),
            writes: 0,
            minted: 0,
            group_members: BTreeMap::new(),
            group_owners: BTreeMap::new(),
            app_owners: BTreeMap::new(),
            sp_owners: BTreeMap::new(),
            app_role_assigned_to: BTreeMap::new(),
            auth_methods_policy: Value::Null,
            authorization_policy: Value::Null,
            directory_audits: BTreeMap::new(),
        }
    }

    /// A collection by name: `users`, `groups`, `applications`, `servicePrincipals`,
    /// `conditionalAccessPolicies` or `namedLocations`. Keys are lower-case ids; use
    /// [`Tenant::insert`] to keep that invariant when adding objects.
    pub fn collection(&self, name: &str) -> Option<&BTreeMap<String, Value>> {
        Kind::from_name(name).map(|k| self.objects(k))
    }

    /// Mutable access to a collection by name (see [`Tenant::collection`]).
    pub fn collection_mut(&mut self, name: &str) -> Option<&mut BTreeMap<String, Value>> {
        Kind::from_name(name).map(|k| &mut self.collections[k.index()])
    }

    /// One object by collection name and id (case-insensitive).
    pub fn get(&self, collection: &str, id: &str) -> Option<&Value> {
        self.collection(collection)?.get(&id.to_ascii_lowercase())
    }

    /// Adds or replaces an object, keyed by its `id` property. Returns the previous object, or
    /// `None` if there was none, the collection name is unknown or the object has no string `id`.
    pub fn insert(&mut self, collection: &str, object: Value) -> Option<Value> {
        let key = object.get("id")?.as_str()?.to_ascii_lowercase();
        self.collection_mut(collection)?.insert(key, object)
    }

    /// Removes a live object from its collection and returns it, leaving every link to it in
    /// place (lists skip dangling ids). [`Tenant::hard_delete`] also drops the links.
    pub fn remove(&mut self, collection: &str, id: &str) -> Option<Value> {
        self.collection_mut(collection)?
            .remove(&id.to_ascii_lowercase())
    }

    /// Deletes an object the way `DELETE /{collection}/{id}` does: users, Microsoft 365
    /// groups, applications, service principals, Conditional Access policies and named
    /// locations go to the recycle bin, security groups are deleted permanently. `None` if
    /// there is no such live object.
    pub fn delete(&mut self, collection: &str, id: &str) -> Option<Deletion> {
        let kind = Kind::from_name(collection)?;
        let key = id.to_ascii_lowercase();
        let object = self.objects(kind).get(&key)?;
        let unified = object.as_object().is_some_and(is_unified);
        if kind == Kind::Groups && !unified {
            self.purge(kind, &key);
            return Some(Deletion::Permanent);
        }
        self.move_to_bin(kind, &key);
        Some(Deletion::RecycleBin)
    }

    /// Deletes an object for good, whether live or in the recycle bin, with every link to it:
    /// what a test uses to make an object "gone for good". Returns the object.
    pub fn hard_delete(&mut self, collection: &str, id: &str) -> Option<Value> {
        let kind = Kind::from_name(collection)?;
        self.purge(kind, &id.to_ascii_lowercase())
    }

    /// The soft-deleted objects of a collection (see [`Tenant::collection`] for names), each
    /// with its `deletedDateTime`.
    pub fn recycle_bin(&self, collection: &str) -> Option<&BTreeMap<String, Value>> {
        Kind::from_name(collection).map(|k| self.deleted(k))
    }

    /// Whether an object of any kind sits in a recycle bin, restorable.
    pub fn is_in_recycle_bin(&self, id: &str) -> bool {
        self.bin_of(id).is_some()
    }

    pub(crate) fn objects(&self, kind: Kind) -> &BTreeMap<String, Value> {
        &self.collections[kind.index()]
    }

    pub(crate) fn objects_mut(&mut self, kind: Kind) -> &mut BTreeMap<String, Value> {
        &mut self.collections[kind.index()]
    }

    pub(crate) fn deleted(&self, kind: Kind) -> &BTreeMap<String, Value> {
        &self.recycle_bins[kind.index()]
    }

    /// The kind whose recycle bin holds `id`.
    pub(crate) fn bin_of(&self, id: &str) -> Option<Kind> {
        let key = id.to_ascii_lowercase();
        Kind::ALL
            .into_iter()
            .find(|k| self.deleted(*k).contains_key(&key))
    }

    pub(crate) fn links(&self, relation: Relation) -> &BTreeMap<String, BTreeSet<String>> {
        match relation {
            Relation::GroupMembers => &self.group_members,
            Relation::GroupOwners => &self.group_owners,
            Relation::AppOwners => &self.app_owners,
            Relation::SpOwners => &self.sp_owners,
        }
    }

    pub(crate) fn links_mut(
        &mut self,
        relation: Relation,
    ) -> &mut BTreeMap<String, BTreeSet<String>> {
        match relation {
            Relation::GroupMembers => &mut self.group_members,
            Relation::GroupOwners => &mut self.group_owners,
            Relation::AppOwners => &mut self.app_owners,
            Relation::SpOwners => &mut self.sp_owners,
        }
    }

    /// The timestamp of a new write; each write is one second after the previous one.
    pub(crate) fn tick(&mut self) -> String {
        self.writes += 1;
        write_time(self.writes)
    }

    /// A fresh object id, derived from a counter so runs are reproducible, and never one
    /// that a live or deleted object already has.
    pub(crate) fn mint_guid(&mut self) -> String {
        loop {
            let id = self.mint_rng().guid();
            if self.directory_object(&id).is_none() && self.bin_of(&id).is_none() {
                return id;
            }
        }
    }

    /// A fresh app role assignment id (43 base64url characters, like Graph's).
    pub(crate) fn mint_assignment_id(&mut self) -> String {
        self.mint_rng().assignment_id()
    }

    fn mint_rng(&mut self) -> Rng {
        self.minted += 1;
        Rng::new(mix(self.minted ^ MINT_SALT))
    }

    /// Moves a live object into its recycle bin, cutting and remembering its links.
    pub(crate) fn move_to_bin(&mut self, kind: Kind, key: &str) -> Option<&Value> {
        let mut object = self.objects_mut(kind).remove(key)?;
        object["deletedDateTime"] = Value::String(self.tick());
        if kind == Kind::Users {
            // The directory frees a deleted user's name for reuse by prefixing it with the
            // object id (without dashes); a restore takes the prefix off again.
            if let Some(upn) = object.get("userPrincipalName").and_then(Value::as_str) {
                let mangled = format!("{}{upn}", upn_prefix(key));
                object["userPrincipalName"] = Value::String(mangled);
            }
        }
        let severed = self.sever(key);
        if severed != Severed::default() {
            self.severed.insert(key.to_string(), severed);
        }
        let bin = &mut self.recycle_bins[kind.index()];
        bin.insert(key.to_string(), object);
        bin.get(key)
    }

    /// Moves an object back from its recycle bin under the same id and relinks it to
    /// everything it was linked to that still exists.
    pub(crate) fn restore_from_bin(&mut self, kind: Kind, key: &str) -> Option<&Value> {
        let mut object = self.recycle_bins[kind.index()].remove(key)?;
        if let Some(map) = object.as_object_mut() {
            map.remove("deletedDateTime");
        }
        if let Some(upn) = original_upn(key, &object) {
            object["userPrincipalName"] = Value::String(upn);
        }
        self.objects_mut(kind).insert(key.to_string(), object);
        self.reattach(key);
        self.objects(kind).get(key)
    }

    /// Deletes an object for good, live or in the bin, with all links to and from it.
    pub(crate) fn purge(&mut self, kind: Kind, key: &str) -> Option<Value> {
        let object = self
            .objects_mut(kind)
            .remove(key)
            .or_else(|| self.recycle_bins[kind.index()].remove(key))?;
        self.sever(key);
        self.severed.remove(key);
        Some(object)
    }

    /// Cuts every link to or from `key`: relationship sets it belongs to or holds, and app
    /// role assignments it is the principal or the resource of.
    fn sever(&mut self, key: &str) -> Severed {
        let mut severed = Severed::default();
        for relation in Relation::ALL {
            let links = self.links_mut(relation);
            if let Some(related) = links.remove(key) {
                severed.links.extend(
                    related
                        .into_iter()
                        .map(|child| (relation, key.to_string(), child)),
                );
            }
            for (parent, related) in links.iter_mut() {
                if related.remove(key) {
                    severed
                        .links
                        .push((relation, parent.clone(), key.to_string()));
                }
            }
        }
        if let Some(own) = self.app_role_assigned_to.remove(key) {
            severed
                .assignments
                .extend(own.into_iter().map(|a| (key.to_string(), a)));
        }
        for (resource, assignments) in self.app_role_assigned_to.iter_mut() {
            let (gone, kept): (Vec<Value>, Vec<Value>) = std::mem::take(assignments)
                .into_iter()
                .partition(|a| same_id(a.get("principalId"), key));
            *assignments = kept;
            severed
                .assignments
                .extend(gone.into_iter().map(|a| (resource.clone(), a)));
        }
        severed
    }

    /// Puts back the links a deletion of `key` cut. A link whose other end is itself in a
    /// recycle bin moves to that object's record, to come back when it is restored; one
    /// whose other end is gone for good is dropped.
    fn reattach(&mut self, key: &str) {
        let Some(severed) = self.severed.remove(key) else {
            return;
        };
        for (relation, parent, child) in severed.links {
            let other = if parent == key { &child } else { &parent };
            if self.directory_object(other).is_some() {
                self.links_mut(relation)
                    .entry(parent)
                    .or_default()
                    .insert(child);
            } else if self.is_in_recycle_bin(other) {
                let other = other.clone();
                let record = self.severed.entry(other).or_default();
                record.links.push((relation, parent, child));
            }
        }
        for (resource, assignment) in severed.assignments {
            let principal = assignment
                .get("principalId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let other = if resource == key {
                principal
            } else {
                resource.clone()
            };
            if self.directory_object(&other).is_some() {
                self.app_role_assigned_to
                    .entry(resource)
                    .or_default()
                    .push(assignment);
            } else if self.is_in_recycle_bin(&other) {
                let record = self.severed.entry(other).or_default();
                record.assignments.push((resource, assignment));
            }
        }
    }

    /// Resolves a directory object id to its Graph type and stored object, for relationship
    /// lists. Dangling ids (an object deleted while still referenced) resolve to `None`, and
    /// the lists skip them just as Graph never returns deleted members. Ids compare
    /// case-insensitively, as everywhere in the directory.
    pub(crate) fn directory_object(&self, id: &str) -> Option<(&'static str, &Value)> {
        self.directory_kind_of(id).and_then(|k| {
            self.objects(k)
                .get(&id.to_ascii_lowercase())
                .map(|v| (k.type_name(), v))
        })
    }

    /// The kind of a live directory object.
    pub(crate) fn directory_kind_of(&self, id: &str) -> Option<Kind> {
        let key = id.to_ascii_lowercase();
        Kind::DIRECTORY
            .into_iter()
            .find(|k| self.objects(*k).contains_key(&key))
    }

    /// A user by id or user principal name, as `/users/{id | userPrincipalName}` allows.
    pub(crate) fn user_by_key(&self, key: &str) -> Option<(&String, &Value)> {
        let users = self.objects(Kind::Users);
        let lower = key.to_ascii_lowercase();
        users.get_key_value(&lower).or_else(|| {
            users.iter().find(|(_, u)| {
                u.get("userPrincipalName")
                    .and_then(Value::as_str)
                    .is_some_and(|upn| upn.eq_ignore_ascii_case(key))
            })
        })
    }
}

fn upn_prefix(key: &str) -> String {
    key.replace('-', "")
}

/// The user principal name a deleted user had before its deletion renamed it.
pub(crate) fn original_upn(key: &str, deleted: &Value) -> Option<String> {
    let upn = deleted.get("userPrincipalName")?.as_str()?;
    upn.strip_prefix(&upn_prefix(key)).map(String::from)
}

/// Microsoft 365 groups have `Unified` among their `groupTypes`; all others are security
/// (or mail-enabled security / distribution) groups.
pub(crate) fn is_unified(group: &serde_json::Map<String, Value>) -> bool {
    group
        .get("groupTypes")
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t == "Unified"))
}

fn same_id(value: Option<&Value>, key: &str) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|id| id.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn insert_get_remove_by_case_insensitive_id() {
        let mut t = Tenant::new();
        assert!(t
            .insert("users", json!({"id": "ABC", "displayName": "x"}))
            .is_none());
        assert!(t.get("users", "abc").is_some());
        assert!(t.collection("users").is_some_and(|c| c.contains_key("abc")));
        assert!(t.remove("users", "Abc").is_some());
        assert!(t.collection_mut("nope").is_none());
    }

    fn linked_tenant() -> Tenant {
        let mut t = Tenant::new();
        t.insert(
            "users",
            json!({"id": "u1-x", "userPrincipalName": "one@contoso.com"}),
        );
        t.insert("users", json!({"id": "u1"}));
        t.insert("users", json!({"id": "u2"}));
        t.insert("groups", json!({"id": "m365", "groupTypes": ["Unified"]}));
        t.insert("groups", json!({"id": "sec", "groupTypes": []}));
        t.insert("servicePrincipals", json!({"id": "sp"}));
        t.group_members
            .insert("m365".into(), ["u1".to_string(), "u2".into()].into());
        t.group_members
            .insert("sec".into(), ["u1".to_string(), "m365".into()].into());
        t.group_owners
            .insert("m365".into(), ["u1".to_string()].into());
        t.app_role_assigned_to.insert(
            "sp".into(),
            vec![
                json!({"id": "a1", "principalId": "U1"}),
                json!({"id": "a2", "principalId": "u2"}),
            ],
        );
        t
    }

    #[test]
    fn soft_delete_cuts_links_and_restore_puts_them_back() {
        let mut t = linked_tenant();
        assert_eq!(t.delete("users", "U1"), Some(Deletion::RecycleBin));
        assert!(t.is_in_recycle_bin("u1") && t.get("users", "u1").is_none());
        assert!(t.recycle_bin("users").expect("bin")["u1"]["deletedDateTime"].is_string());
        assert_eq!(t.group_members["m365"].len(), 1);
        assert!(!t.group_members["sec"].contains("u1"));
        assert!(t.group_owners["m365"].is_empty());
        assert_eq!(t.app_role_assigned_to["sp"].len(), 1);

        assert!(t.restore_from_bin(Kind::Users, "u1").is_some());
        assert!(!t.is_in_recycle_bin("u1"));
        assert!(t
            .get("users", "u1")
            .expect("back")
            .get("deletedDateTime")
            .is_none());
        assert!(t.group_members["m365"].contains("u1") && t.group_members["sec"].contains("u1"));
        assert!(t.group_owners["m365"].contains("u1"));
        assert_eq!(t.app_role_assigned_to["sp"].len(), 2);
    }

    #[test]
    fn deleted_users_free_their_name_until_restored() {
        let mut t = linked_tenant();
        t.delete("users", "u1-x");
        let bin = t.recycle_bin("users").expect("bin");
        assert_eq!(bin["u1-x"]["userPrincipalName"], "u1xone@contoso.com");
        t.restore_from_bin(Kind::Users, "u1-x");
        assert_eq!(
            t.get("users", "u1-x").expect("back")["userPrincipalName"],
            "one@contoso.com"
        );
    }

    #[test]
    fn links_between_two_deleted_objects_return_with_the_second_restore() {
        let mut t = linked_tenant();
        t.delete("groups", "m365");
        t.delete("users", "u2");
        t.restore_from_bin(Kind::Groups, "m365");
        assert!(!t.group_members["m365"].contains("u2"));
        assert!(t.group_members["sec"].contains("m365"));
        t.restore_from_bin(Kind::Users, "u2");
        assert!(t.group_members["m365"].contains("u2"));
    }

    #[test]
    fn security_groups_and_hard_deletes_are_permanent() {
        let mut t = linked_tenant();
        assert_eq!(t.delete("groups", "sec"), Some(Deletion::Permanent));
        assert!(!t.is_in_recycle_bin("sec") && !t.group_members.contains_key("sec"));
        t.delete("users", "u1");
        assert!(t.hard_delete("users", "u1").is_some());
        assert!(!t.is_in_recycle_bin("u1"));
        assert!(t.hard_delete("servicePrincipals", "sp").is_some());
        assert!(!t.app_role_assigned_to.contains_key("sp"));
        assert_eq!(t.delete("users", "nobody"), None);
    }

    #[test]
    fn minted_ids_and_times_are_reproducible() {
        let (mut a, mut b) = (Tenant::new(), Tenant::new());
        assert_eq!(a.mint_guid(), b.mint_guid());
        assert_ne!(a.mint_guid(), a.mint_guid());
        assert!(a.tick() < a.tick());
    }
}
