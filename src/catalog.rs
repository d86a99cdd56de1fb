//! The catalog of object kinds: one table row per kind.
//!
//! Everything idgit knows about a kind lives in its [`Kind`] row: where Graph serves it,
//! which properties to ask for, which to drop and why, how its arrays compare, which
//! properties point at other objects, and which relationships to fetch. The normalizer,
//! the backup, the emulator-facing tests and (later) the planner read this table; none
//! of them has a per-kind module. A ninth kind is a ninth row.
//!
//! Property paths are dotted and step through arrays transparently:
//! `conditions.users.includeGroups` names the array inside `conditions.users`, and
//! `passwordCredentials.secretText` names `secretText` in every credential.

use std::collections::BTreeSet;
use std::sync::OnceLock;

/// One object kind.
#[derive(Debug, PartialEq)]
pub struct Kind {
    /// Name used on the command line (`--kinds users,groups`) and in reports.
    pub name: &'static str,
    /// Human name, plural: "conditional access policies".
    pub title: &'static str,
    /// Used for slugs when an object has no readable name.
    pub singular: &'static str,
    /// The Graph type name, a key of `graph_types.json`.
    pub graph_type: &'static str,
    /// Where Graph serves it and where the backup stores it.
    pub shape: Shape,
    /// Which properties to request.
    pub select: Select,
    /// `$top` for list requests: the largest page Graph allows for this collection.
    pub page_size: Option<u32>,
    /// Property paths whose objects keep `@odata.type`, because the type is polymorphic
    /// and a restore must send it back. `""` is the object itself.
    pub polymorphic: &'static [&'static str],
    /// Properties dropped from the backup because they change without any admin action.
    pub volatile: &'static [Prop],
    /// Properties that are never stored, because they carry (or may carry) secrets.
    pub secrets: &'static [Prop],
    /// Properties kept in the backup but never sent on a write: Graph computes them.
    pub read_only: &'static [Prop],
    /// Arrays whose order carries meaning. Every other array is a set: Graph does not
    /// promise an order, so sorting is what makes two backups of one state identical.
    pub ordered_arrays: &'static [&'static str],
    /// Arrays of objects and the property that identifies an element, used to sort them
    /// readably. Arrays of objects without a key are sorted by their canonical JSON.
    pub array_keys: &'static [(&'static str, &'static str)],
    /// Properties that hold references to other objects.
    pub references: &'static [Reference],
    /// Relationships fetched with extra requests and stored apart from the properties.
    pub relationships: &'static [Relationship],
    /// Properties tried in order for the readable part of the file name.
    pub slug_from: &'static [&'static str],
    /// The least-privileged application permission that can read this kind.
    pub read_permission: &'static str,
    /// The application permission a restore needs to write this kind.
    pub write_permission: &'static str,
    /// How a restore brings back a deleted object, and how deleting one works.
    pub recycle_bin: RecycleBin,
    /// Read-only properties that a create (POST) must still carry: Graph takes them
    /// once and never lets them change.
    pub create_only: &'static [&'static str],
    /// Collection properties that Graph updates item by item, at
    /// `{path}/{property}/{item id}`, and never through the parent object.
    pub patched_per_item: &'static [&'static str],
}

/// Where deleted objects of a kind wait, and whether they can come back with their ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecycleBin {
    /// The directory's recycle bin: `/directory/deletedItems/{id}`, 30 days.
    Directory,
    /// Conditional access's own bin: `/identity/conditionalAccess/deletedItems/<segment>/{id}`.
    ConditionalAccess { segment: &'static str },
    /// Never deleted: a singleton.
    None,
}

impl RecycleBin {
    /// The URL of a deleted object in the bin, if the kind has one.
    pub fn item_url(self, id: &str) -> Option<String> {
        match self {
            RecycleBin::Directory => Some(format!("/directory/deletedItems/{id}")),
            RecycleBin::ConditionalAccess { segment } => Some(format!(
                "/identity/conditionalAccess/deletedItems/{segment}/{id}"
            )),
            RecycleBin::None => None,
        }
    }
}

/// Where a kind lives in Graph and in the repository.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A collection: `GET path` pages through objects; each becomes `dir/<slug>.<id>.yaml`.
    Collection {
        path: &'static str,
        dir: &'static str,
    },
    /// A single object: `GET path` returns it; it is stored at `file`.
    Singleton {
        path: &'static str,
        file: &'static str,
        id: &'static str,
    },
}

/// Which properties a list request asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Select {
    /// `$select` every property of the type except the listed ones. Needed where Graph
    /// returns only a default subset without `$select` (users, groups).
    AllExcept(&'static [Prop]),
    /// No `$select`: Graph returns every property by default, or rejects query options.
    ServerDefault,
}

/// A property path with the reason it is listed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prop {
    pub path: &'static str,
    pub reason: &'static str,
}

const fn p(path: &'static str, reason: &'static str) -> Prop {
    Prop { path, reason }
}

/// A property whose values refer to other objects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    pub path: &'static str,
    pub target: RefTarget,
}

/// What a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefTarget {
    /// Object IDs of objects of these kinds.
    Objects(&'static [&'static str]),
    /// An application's `appId` (not its object ID).
    AppId,
    /// A built-in directory role template ID.
    RoleTemplate,
}

/// A relationship stored under `relationships.<name>` in the owning object's file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Relationship {
    pub name: &'static str,
    /// Graph path below the object: `/groups/{id}/<segment>`.
    pub segment: &'static str,
    pub item: RelationshipItem,
    /// The kinds the related objects can be.
    pub targets: &'static [&'static str],
}

/// How one related item is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationshipItem {
    /// Just the related object's ID (members, owners).
    ObjectId,
    /// An app role assignment: who (`principalId`, `principalType`) holds which
    /// `appRoleId`. The assignment's own ID, timestamps and display names are left out:
    /// they are not part of the desired state and change when an assignment is re-made.
    AppRoleAssignment,
}

impl RelationshipItem {
    /// `$select` for the relationship request, so pages stay small.
    pub fn select(self) -> &'static str {
        match self {
            RelationshipItem::ObjectId => "id",
            RelationshipItem::AppRoleAssignment => "id,appRoleId,principalId,principalType",
        }
    }
}

const DIRECTORY_OBJECTS: &[&str] = &["users", "groups", "service-principals"];

// The reasons below are part of the catalog's documentation: `idgit` shows them in
// `--help` of later commands and in the schemas, so keep them to one plain line.

const USER_NOT_ON_LIST: &str =
    "stored outside the directory; Graph answers 501 when it is selected on the /users list";

/// Every object kind, in the order a backup reads them and a restore applies them.
pub static KINDS: &[Kind] = &[
    Kind {
        name: "named-locations",
        title: "named locations",
        singular: "named-location",
        graph_type: "namedLocation",
        shape: Shape::Collection {
            path: "/identity/conditionalAccess/namedLocations",
            dir: "named-locations",
        },
        select: Select::ServerDefault,
        page_size: None,
        polymorphic: &["", "ipRanges"],
        volatile: &[
            p("modifiedDateTime", "set by Graph on every save"),
            p("deletedDateTime", "only set in the recycle bin"),
        ],
        secrets: &[],
        read_only: &[
            p("id", "assigned by Graph"),
            p("createdDateTime", "set by Graph on create"),
        ],
        ordered_arrays: &[],
        array_keys: &[("ipRanges", "cidrAddress")],
        references: &[],
        relationships: &[],
        slug_from: &["displayName"],
        read_permission: "Policy.Read.All",
        write_permission: "Policy.ReadWrite.ConditionalAccess",
        recycle_bin: RecycleBin::ConditionalAccess { segment: "namedLocations" },
        create_only: &[],
        patched_per_item: &[],
    },
    Kind {
        name: "users",
        title: "users",
        singular: "user",
        graph_type: "user",
        shape: Shape::Collection { path: "/users", dir: "users" },
        select: Select::AllExcept(&[
            p("aboutMe", USER_NOT_ON_LIST),
            p("birthday", USER_NOT_ON_LIST),
            p("hireDate", USER_NOT_ON_LIST),
            p("interests", USER_NOT_ON_LIST),
            p("mySite", USER_NOT_ON_LIST),
            p("pastProjects", USER_NOT_ON_LIST),
            p("preferredName", USER_NOT_ON_LIST),
            p("responsibilities", USER_NOT_ON_LIST),
            p("schools", USER_NOT_ON_LIST),
            p("skills", USER_NOT_ON_LIST),
            p("mailboxSettings", USER_NOT_ON_LIST),
            p("print", "printing settings, not directory configuration"),
            p("deviceEnrollmentLimit", "Intune setting, not directory configuration"),
            p("passwordProfile", "write-only: Graph never returns it"),
            p(
                "signInActivity",
                "changes at every sign-in, needs AuditLog.Read.All and halves the page size",
            ),
        ]),
        page_size: Some(999),
        polymorphic: &[],
        volatile: &[
            p("signInActivity", "changes at every sign-in"),
            p("lastPasswordChangeDateTime", "changes when the user changes a password"),
            p("signInSessionsValidFromDateTime", "changes when sessions are revoked"),
            p("onPremisesLastSyncDateTime", "changes at every directory sync"),
            p("assignedPlans", "recomputed by the licensing service"),
            p("provisionedPlans", "recomputed by the licensing service"),
            p("licenseAssignmentStates", "recomputed by the licensing service"),
            p("externalUserStateChangeDateTime", "changes when a guest redeems an invite"),
            p("deletedDateTime", "only set in the recycle bin"),
        ],
        secrets: &[p("passwordProfile", "holds a password when present")],
        read_only: &[
            p("id", "assigned by Graph"),
            p("createdDateTime", "set by Graph on create"),
            p("creationType", "set by Graph on create"),
            p("securityIdentifier", "computed by the directory"),
            p("externalUserState", "follows the guest's invite redemption"),
            p("assignedLicenses", "changed through assignLicense, not PATCH"),
            p("imAddresses", "computed from the mailbox"),
            p("proxyAddresses", "computed by Exchange"),
            p("legalAgeGroupClassification", "computed from ageGroup and consent"),
            p("isManagementRestricted", "computed by the directory"),
            p("onPremisesDistinguishedName", "written by directory sync"),
            p("onPremisesDomainName", "written by directory sync"),
            p("onPremisesSamAccountName", "written by directory sync"),
            p("onPremisesSecurityIdentifier", "written by directory sync"),
            p("onPremisesSyncEnabled", "written by directory sync"),
            p("onPremisesUserPrincipalName", "written by directory sync"),
            p("onPremisesProvisioningErrors", "written by directory sync"),
            p("serviceProvisioningErrors", "written by the provisioning service"),
        ],
        ordered_arrays: &[],
        array_keys: &[("identities", "issuerAssignedId")],
        references: &[],
        relationships: &[],
        slug_from: &["userPrincipalName", "displayName"],
        read_permission: "User.Read.All",
        write_permission: "User.ReadWrite.All",
        recycle_bin: RecycleBin::Directory,
        create_only: &[],
        patched_per_item: &[],
    },
    Kind {
        name: "groups",
        title: "groups",
        singular: "group",
        graph_type: "group",
        shape: Shape::Collection { path: "/groups", dir: "groups" },
        select: Select::AllExcept(&[
            p("allowExternalSenders", "Exchange setting returned only by GET /groups/{id}"),
            p("autoSubscribeNewMembers", "Exchange setting returned only by GET /groups/{id}"),
            p("hideFromAddressLists", "Exchange setting returned only by GET /groups/{id}"),
            p("hideFromOutlookClients", "Exchange setting returned only by GET /groups/{id}"),
            p("isSubscribedByMail", "per signed-in user, not group configuration"),
            p("isFavorite", "per signed-in user, not group configuration"),
            p("unseenCount", "per signed-in user, not group configuration"),
            p("unseenConversationsCount", "per signed-in user, not group configuration"),
            p("unseenMessagesCount", "per signed-in user, not group configuration"),
            p("hasMembersWithLicenseErrors", "a filter-only flag, recomputed by licensing"),
        ]),
        page_size: Some(999),
        polymorphic: &[],
        volatile: &[
            p("renewedDateTime", "changes when the group lifecycle policy renews it"),
            p("expirationDateTime", "moves when the group is renewed"),
            p("onPremisesLastSyncDateTime", "changes at every directory sync"),
            p("deletedDateTime", "only set in the recycle bin"),
        ],
        secrets: &[],
        read_only: &[
            p("id", "assigned by Graph"),
            p("createdDateTime", "set by Graph on create"),
            p("mail", "computed by Exchange"),
            p("proxyAddresses", "computed by Exchange"),
            p("securityIdentifier", "computed by the directory"),
            p("assignedLicenses", "changed through assignLicense, not PATCH"),
            p("licenseProcessingState", "computed by licensing"),
            p("isArchived", "changed through the Teams archive action"),
            p("isManagementRestricted", "computed by the directory"),
            p("uniqueName", "set once on create"),
            p("isAssignableToRole", "can only be set when the group is created"),
            p("resourceProvisioningOptions", "set when a team is provisioned"),
            p("onPremisesDomainName", "written by directory sync"),
            p("onPremisesNetBiosName", "written by directory sync"),
            p("onPremisesSamAccountName", "written by directory sync"),
            p("onPremisesSecurityIdentifier", "written by directory sync"),
            p("onPremisesSyncEnabled", "written by directory sync"),
            p("onPremisesProvisioningErrors", "written by directory sync"),
            p("serviceProvisioningErrors", "written by the provisioning service"),
        ],
        ordered_arrays: &[],
        array_keys: &[],
        references: &[],
        relationships: &[
            Relationship {
                name: "members",
                segment: "members",
                item: RelationshipItem::ObjectId,
                targets: DIRECTORY_OBJECTS,
            },
            Relationship {
                name: "owners",
                segment: "owners",
                item: RelationshipItem::ObjectId,
                targets: &["users", "service-principals"],
            },
        ],
        slug_from: &["displayName"],
        read_permission: "Group.Read.All",
        write_permission: "Group.ReadWrite.All",
        recycle_bin: RecycleBin::Directory,
        create_only: &["isAssignableToRole"],
        patched_per_item: &[],
    },
    Kind {
        name: "applications",
        title: "applications",
        singular: "application",
        graph_type: "application",
        shape: Shape::Collection { path: "/applications", dir: "applications" },
        // Graph returns every application property by default except the certificate
        // blob `keyCredentials.key`, which it returns only when keyCredentials is selected.
        // Selecting everything is the only way to back up certificates.
        select: Select::AllExcept(&[]),
        page_size: Some(999),
        polymorphic: &[],
        volatile: &[p("deletedDateTime", "only set in the recycle bin")],
        secrets: &[p(
            "passwordCredentials.secretText",
            "the client secret itself; Graph returns it only once, at creation",
        )],
        read_only: &[
            p("id", "assigned by Graph"),
            p("appId", "assigned by Graph on create"),
            p("createdDateTime", "set by Graph on create"),
            p("publisherDomain", "computed from the tenant's verified domains"),
            p("applicationTemplateId", "set when created from a gallery template"),
            p("uniqueName", "set once on create"),
            p("disabledByMicrosoftStatus", "set by Microsoft"),
            p("certification", "set by Microsoft"),
            p("verifiedPublisher", "changed through setVerifiedPublisher"),
            p("createdByAppId", "immutable: the app that created it"),
            p("passwordCredentials", "managed through addPassword and removePassword"),
        ],
        ordered_arrays: &[],
        array_keys: &[
            ("appRoles", "id"),
            ("api.oauth2PermissionScopes", "id"),
            ("api.preAuthorizedApplications", "appId"),
            ("passwordCredentials", "keyId"),
            ("keyCredentials", "keyId"),
            ("requiredResourceAccess", "resourceAppId"),
            ("requiredResourceAccess.resourceAccess", "id"),
            ("addIns", "id"),
        ],
        references: &[
            Reference { path: "requiredResourceAccess.resourceAppId", target: RefTarget::AppId },
            Reference {
                path: "api.preAuthorizedApplications.appId",
                target: RefTarget::AppId,
            },
        ],
        relationships: &[Relationship {
            name: "owners",
            segment: "owners",
            item: RelationshipItem::ObjectId,
            targets: &["users", "service-principals"],
        }],
        slug_from: &["displayName"],
        read_permission: "Application.Read.All",
        write_permission: "Application.ReadWrite.All",
        recycle_bin: RecycleBin::Directory,
        create_only: &[],
        patched_per_item: &[],
    },
    Kind {
        name: "service-principals",
        title: "service principals",
        singular: "service-principal",
        graph_type: "servicePrincipal",
        shape: Shape::Collection { path: "/servicePrincipals", dir: "service-principals" },
        select: Select::ServerDefault,
        page_size: Some(999),
        polymorphic: &[],
        volatile: &[p("deletedDateTime", "only set in the recycle bin")],
        secrets: &[p(
            "passwordCredentials.secretText",
            "the client secret itself; Graph returns it only once, at creation",
        )],
        read_only: &[
            p("id", "assigned by Graph"),
            p("appId", "chosen on create, never changed"),
            p("appDisplayName", "copied from the application"),
            p("appOwnerOrganizationId", "the tenant that owns the application"),
            p("applicationTemplateId", "set when created from a gallery template"),
            p("servicePrincipalType", "set by Graph"),
            p("signInAudience", "copied from the application"),
            p("resourceSpecificApplicationPermissions", "copied from the application"),
            p("passwordCredentials", "managed through addPassword and removePassword"),
        ],
        ordered_arrays: &[],
        array_keys: &[
            ("appRoles", "id"),
            ("oauth2PermissionScopes", "id"),
            ("passwordCredentials", "keyId"),
            ("keyCredentials", "keyId"),
            ("addIns", "id"),
        ],
        references: &[Reference { path: "appId", target: RefTarget::AppId }],
        relationships: &[
            Relationship {
                name: "owners",
                segment: "owners",
                item: RelationshipItem::ObjectId,
                targets: &["users", "service-principals"],
            },
            Relationship {
                name: "appRoleAssignedTo",
                segment: "appRoleAssignedTo",
                item: RelationshipItem::AppRoleAssignment,
                targets: DIRECTORY_OBJECTS,
            },
        ],
        slug_from: &["displayName", "appDisplayName"],
        read_permission: "Application.Read.All",
        write_permission: "Application.ReadWrite.All",
        recycle_bin: RecycleBin::Directory,
        create_only: &["appId"],
        patched_per_item: &[],
    },
    Kind {
        name: "conditional-access-policies",
        title: "conditional access policies",
        singular: "policy",
        graph_type: "conditionalAccessPolicy",
        shape: Shape::Collection {
            path: "/identity/conditionalAccess/policies",
            dir: "conditional-access-policies",
        },
        select: Select::ServerDefault,
        page_size: None,
        // The external tenants of a guest condition are either "all" or an enumerated
        // list, told apart only by their type.
        polymorphic: &[
            "conditions.users.includeGuestsOrExternalUsers.externalTenants",
            "conditions.users.excludeGuestsOrExternalUsers.externalTenants",
        ],
        volatile: &[
            p("modifiedDateTime", "set by Graph on every save"),
            p("deletedDateTime", "only set in the recycle bin"),
        ],
        secrets: &[],
        read_only: &[
            p("id", "assigned by Graph"),
            p("createdDateTime", "set by Graph on create"),
            p("templateId", "set only when created from a template"),
        ],
        ordered_arrays: &[],
        array_keys: &[],
        references: &[
            Reference {
                path: "conditions.users.includeUsers",
                target: RefTarget::Objects(&["users"]),
            },
            Reference {
                path: "conditions.users.excludeUsers",
                target: RefTarget::Objects(&["users"]),
            },
            Reference {
                path: "conditions.users.includeGroups",
                target: RefTarget::Objects(&["groups"]),
            },
            Reference {
                path: "conditions.users.excludeGroups",
                target: RefTarget::Objects(&["groups"]),
            },
            Reference { path: "conditions.users.includeRoles", target: RefTarget::RoleTemplate },
            Reference { path: "conditions.users.excludeRoles", target: RefTarget::RoleTemplate },
            Reference {
                path: "conditions.applications.includeApplications",
                target: RefTarget::AppId,
            },
            Reference {
                path: "conditions.applications.excludeApplications",
                target: RefTarget::AppId,
            },
            Reference {
                path: "conditions.locations.includeLocations",
                target: RefTarget::Objects(&["named-locations"]),
            },
            Reference {
                path: "conditions.locations.excludeLocations",
                target: RefTarget::Objects(&["named-locations"]),
            },
            Reference {
                path: "conditions.clientApplications.includeServicePrincipals",
                target: RefTarget::Objects(&["service-principals"]),
            },
            Reference {
                path: "conditions.clientApplications.excludeServicePrincipals",
                target: RefTarget::Objects(&["service-principals"]),
            },
        ],
        relationships: &[],
        slug_from: &["displayName"],
        read_permission: "Policy.Read.All",
        write_permission: "Policy.ReadWrite.ConditionalAccess",
        recycle_bin: RecycleBin::ConditionalAccess { segment: "policies" },
        create_only: &[],
        patched_per_item: &[],
    },
    Kind {
        name: "authentication-methods-policy",
        title: "authentication methods policy",
        singular: "authentication-methods-policy",
        graph_type: "authenticationMethodsPolicy",
        shape: Shape::Singleton {
            path: "/policies/authenticationMethodsPolicy",
            file: "policies/authentication-methods-policy.yaml",
            id: "authenticationMethodsPolicy",
        },
        // "This method does not support any optional query parameters"; the
        // configurations are expanded automatically.
        select: Select::ServerDefault,
        page_size: None,
        polymorphic: &["authenticationMethodConfigurations"],
        volatile: &[
            p("lastModifiedDateTime", "set by Graph on every save"),
            p("policyVersion", "bumped by Graph on every save"),
        ],
        secrets: &[],
        read_only: &[
            p("id", "fixed by Graph"),
            p("displayName", "fixed by Graph"),
            p("description", "fixed by Graph"),
            p("authenticationMethodConfigurations.id", "fixed method names"),
        ],
        ordered_arrays: &[],
        array_keys: &[
            ("authenticationMethodConfigurations", "id"),
            ("authenticationMethodConfigurations.includeTargets", "id"),
            ("authenticationMethodConfigurations.excludeTargets", "id"),
            ("registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets", "id"),
            ("registrationEnforcement.authenticationMethodsRegistrationCampaign.excludeTargets", "id"),
        ],
        references: &[
            Reference {
                path: "authenticationMethodConfigurations.includeTargets.id",
                target: RefTarget::Objects(&["groups"]),
            },
            Reference {
                path: "authenticationMethodConfigurations.excludeTargets.id",
                target: RefTarget::Objects(&["groups"]),
            },
            Reference {
                path: "registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets.id",
                target: RefTarget::Objects(&["users", "groups"]),
            },
            Reference {
                path: "registrationEnforcement.authenticationMethodsRegistrationCampaign.excludeTargets.id",
                target: RefTarget::Objects(&["users", "groups"]),
            },
        ],
        relationships: &[],
        slug_from: &[],
        read_permission: "Policy.Read.All",
        write_permission: "Policy.ReadWrite.AuthenticationMethod",
        recycle_bin: RecycleBin::None,
        create_only: &[],
        patched_per_item: &["authenticationMethodConfigurations"],
    },
    Kind {
        name: "authorization-policy",
        title: "authorization policy",
        singular: "authorization-policy",
        graph_type: "authorizationPolicy",
        shape: Shape::Singleton {
            path: "/policies/authorizationPolicy",
            file: "policies/authorization-policy.yaml",
            id: "authorizationPolicy",
        },
        select: Select::ServerDefault,
        page_size: None,
        polymorphic: &[],
        volatile: &[p("deletedDateTime", "a singleton is never deleted")],
        secrets: &[],
        read_only: &[p("id", "fixed by Graph")],
        ordered_arrays: &[],
        array_keys: &[],
        references: &[Reference { path: "guestUserRoleId", target: RefTarget::RoleTemplate }],
        relationships: &[],
        slug_from: &[],
        read_permission: "Policy.Read.All",
        write_permission: "Policy.ReadWrite.Authorization",
        recycle_bin: RecycleBin::None,
        create_only: &[],
        patched_per_item: &[],
    },
];

/// Looks a kind up by its command-line name.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// All kind names, for help texts and error hints.
pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name).collect()
}

impl Kind {
    /// The path prefix of this kind in the repository: its directory, or its one file.
    pub fn repo_path(&self) -> &'static str {
        match self.shape {
            Shape::Collection { dir, .. } => dir,
            Shape::Singleton { file, .. } => file,
        }
    }

    pub fn graph_path(&self) -> &'static str {
        match self.shape {
            Shape::Collection { path, .. } | Shape::Singleton { path, .. } => path,
        }
    }

    pub fn is_singleton(&self) -> bool {
        matches!(self.shape, Shape::Singleton { .. })
    }

    /// The `@odata.type` of the kind's base type, e.g. `#microsoft.graph.user`.
    pub fn base_odata_type(&self) -> String {
        format!("#microsoft.graph.{}", self.graph_type)
    }

    /// The relative URL of the first page of one object's relationship. Graph serves up
    /// to 999 related objects a page, but only 100 unless asked.
    pub fn relationship_url(&self, id: &str, relationship: &Relationship) -> String {
        format!(
            "{}/{id}/{}?$select={}&$top=999",
            self.graph_path(),
            relationship.segment,
            relationship.item.select()
        )
    }

    /// The relative URL of the first list (or singleton) request.
    pub fn list_url(&self) -> String {
        let mut query: Vec<String> = self.select_query().into_iter().collect();
        if let Some(top) = self.page_size {
            query.push(format!("$top={top}"));
        }
        if query.is_empty() {
            self.graph_path().to_string()
        } else {
            format!("{}?{}", self.graph_path(), query.join("&"))
        }
    }

    /// The relative URL of one object, with the same properties a list returns.
    pub fn item_url(&self, id: &str) -> String {
        match self.shape {
            Shape::Singleton { path, .. } => path.to_string(),
            Shape::Collection { path, .. } => {
                with_query(format!("{path}/{id}"), self.select_query())
            }
        }
    }

    /// The relative URL of a deleted object in its recycle bin, with the same
    /// properties a list returns; `None` for kinds that are never deleted.
    pub fn recycle_bin_url(&self, id: &str) -> Option<String> {
        self.recycle_bin
            .item_url(id)
            .map(|url| with_query(url, self.select_query()))
    }

    /// `$select=...` when the kind needs one to get every property.
    fn select_query(&self) -> Option<String> {
        let Select::AllExcept(excluded) = self.select else {
            return None;
        };
        let excluded: BTreeSet<&str> = excluded.iter().map(|p| p.path).collect();
        let props: Vec<&str> = graph_types()
            .properties(self.graph_type)
            .into_iter()
            .filter(|name| !excluded.contains(name))
            .collect();
        Some(format!("$select={}", props.join(",")))
    }
}

fn with_query(url: String, query: Option<String>) -> String {
    match query {
        Some(query) => format!("{url}?{query}"),
        None => url,
    }
}

/// Graph v1.0 type data, generated from Microsoft's metadata by
/// `tools/gen_graph_types.py` and embedded so that idgit needs nothing at run time.
pub struct GraphTypes {
    types: serde_json::Map<String, serde_json::Value>,
}

pub fn graph_types() -> &'static GraphTypes {
    static TYPES: OnceLock<GraphTypes> = OnceLock::new();
    TYPES.get_or_init(|| {
        let value: serde_json::Value = serde_json::from_str(include_str!("graph_types.json"))
            .expect("src/graph_types.json is generated JSON and parsed by a unit test");
        let types = match value {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        GraphTypes { types }
    })
}

impl GraphTypes {
    /// Every structural property of a type, its base types' first, sorted by name.
    pub fn properties(&self, type_name: &str) -> Vec<&str> {
        let mut names = BTreeSet::new();
        let mut current = Some(type_name);
        while let Some(name) = current {
            let Some(entry) = self.types.get(name) else {
                break;
            };
            if let Some(props) = entry.get("properties").and_then(|p| p.as_array()) {
                names.extend(props.iter().filter_map(|p| p.get("name")?.as_str()));
            }
            current = entry.get("base").and_then(|b| b.as_str());
        }
        names.into_iter().collect()
    }

    /// Raw entry of a type, for schema generation and the emulator-facing tests.
    pub fn get(&self, type_name: &str) -> Option<&serde_json::Value> {
        self.types.get(type_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_are_unique() {
        let names: BTreeSet<_> = KINDS.iter().map(|k| k.name).collect();
        assert_eq!(names.len(), KINDS.len());
        let paths: BTreeSet<_> = KINDS.iter().map(|k| k.repo_path()).collect();
        assert_eq!(paths.len(), KINDS.len());
    }

    #[test]
    fn every_kind_has_a_known_graph_type() {
        for kind in KINDS {
            assert!(
                graph_types().get(kind.graph_type).is_some(),
                "{}",
                kind.name
            );
            assert!(
                graph_types().properties(kind.graph_type).contains(&"id"),
                "{}",
                kind.name
            );
        }
    }

    #[test]
    fn listed_properties_exist_on_the_type() {
        for kind in KINDS {
            let mut props = graph_types().properties(kind.graph_type);
            // Auto-expanded navigation properties arrive like properties.
            props.extend(navigation(kind.graph_type));
            // Polymorphic kinds also carry their derived types' properties.
            for derived in derived_types(kind.graph_type) {
                props.extend(graph_types().properties(derived));
            }
            let lists = [kind.volatile, kind.read_only, kind.secrets];
            for prop in lists.iter().flat_map(|l| l.iter()) {
                let head = prop.path.split('.').next().unwrap_or_default();
                assert!(
                    props.contains(&head),
                    "{}: unknown property {}",
                    kind.name,
                    prop.path
                );
            }
            if let Select::AllExcept(excluded) = kind.select {
                for prop in excluded {
                    assert!(props.contains(&prop.path), "{}: {}", kind.name, prop.path);
                }
            }
        }
    }

    fn navigation(name: &str) -> Vec<&'static str> {
        graph_types()
            .get(name)
            .and_then(|t| t.get("navigation"))
            .and_then(|d| d.as_array())
            .map(|d| d.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default()
    }

    fn derived_types(name: &str) -> Vec<&'static str> {
        graph_types()
            .get(name)
            .and_then(|t| t.get("derived"))
            .and_then(|d| d.as_array())
            .map(|d| d.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn users_select_the_full_property_set_but_not_the_list_breakers() {
        let url = kind("users").unwrap().list_url();
        assert!(url.starts_with("/users?$select="));
        for wanted in [
            "department",
            "employeeId",
            "onPremisesExtensionAttributes",
            "id",
        ] {
            assert!(url.contains(wanted), "{wanted}");
        }
        for unwanted in ["aboutMe", "signInActivity", "mailboxSettings"] {
            assert!(!url.contains(unwanted), "{unwanted}");
        }
        assert!(url.ends_with("&$top=999"));
    }

    #[test]
    fn singletons_send_no_query_options() {
        assert_eq!(
            kind("authentication-methods-policy").unwrap().list_url(),
            "/policies/authenticationMethodsPolicy"
        );
    }
}
