//! The in-memory tenant.
//!
//! Objects are stored compactly: a JSON object holding only the properties that are set (the
//! renderer fills every other declared property with `null`/`[]`). Collections are `BTreeMap`s
//! keyed by the lower-case id, which gives paging its id order for free and lets a skiptoken
//! resume with a range query even if objects were added or removed between pages.
//!
//! Write support will add a recycle bin beside each collection (a second map per kind that
//! DELETE moves objects into and restore moves them back from) plus a change log for delta;
//! nothing here assumes objects only ever come from a seed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

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

    fn index(self) -> usize {
        self as usize
    }
}

/// The directory state a Graph emulator serves. Tests reach it through
/// `EmulatorHandle::tenant` and may change anything; the next request sees the change.
pub struct Tenant {
    collections: [BTreeMap<String, Value>; 6],
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

    /// Removes an object (a hard delete) and returns it.
    pub fn remove(&mut self, collection: &str, id: &str) -> Option<Value> {
        self.collection_mut(collection)?
            .remove(&id.to_ascii_lowercase())
    }

    pub(crate) fn objects(&self, kind: Kind) -> &BTreeMap<String, Value> {
        &self.collections[kind.index()]
    }

    /// Resolves a directory object id to its Graph type and stored object, for relationship
    /// lists. Dangling ids (an object deleted while still referenced) resolve to `None`, and
    /// the lists skip them just as Graph never returns deleted members. Ids compare
    /// case-insensitively, as everywhere in the directory.
    pub(crate) fn directory_object(&self, id: &str) -> Option<(&'static str, &Value)> {
        let key = id.to_ascii_lowercase();
        [
            Kind::Users,
            Kind::Groups,
            Kind::ServicePrincipals,
            Kind::Applications,
        ]
        .into_iter()
        .find_map(|k| self.objects(k).get(&key).map(|v| (k.type_name(), v)))
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
}
