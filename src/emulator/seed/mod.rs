//! Seeded tenants: the hand-written `demo` tenant, a synthetic `large` one and an `empty` one.
//!
//! Every seed is a pure function of its parameters: ids come from a fixed-seed PRNG and dates
//! from a fixed base, so the same seed always serves byte-identical responses.

mod demo;
mod large;

use serde_json::{json, Value};

use super::auth::Identity;
use super::rng::Rng;
use super::store::Tenant;
use super::Seed;

/// The seed's organisation. All seeds share it so credentials stay the same across seeds.
pub(crate) const DOMAIN: &str = "contoso.onmicrosoft.com";
/// The verified custom domain most user names use.
pub(crate) const MAIL_DOMAIN: &str = "contoso.com";
const ORG_NAME: &str = "Contoso";
const CLIENT_SECRET: &str = "emulator-secret-do-not-use-in-production";
const IDENTITY_SEED: u64 = 0x1D61_7C0A_7050;

/// The application permissions the backup app is granted unless a test changes them.
pub(crate) const DEFAULT_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "Group.Read.All",
    "Application.Read.All",
    "Policy.Read.All",
    "AuditLog.Read.All",
];

/// The write permissions the backup app is also granted, so that a plain emulator can be
/// restored into as well as backed up. The seeded app registration lists only the read
/// permissions above (what a backup-only deployment consents to); the grant is the
/// emulator's, and `set_permissions` replaces both lists.
pub(crate) const DEFAULT_WRITE_PERMISSIONS: &[&str] = &[
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Policy.ReadWrite.ConditionalAccess",
    "Policy.ReadWrite.Authorization",
    "Policy.ReadWrite.AuthenticationMethod",
];

/// Microsoft's own tenant, the owner of first-party service principals.
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
pub(crate) const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
pub(crate) const EXCHANGE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";
pub(crate) const DEFAULT_ACCESS_ROLE: &str = "00000000-0000-0000-0000-000000000000";

/// Microsoft Graph application permissions (app role id, value, display name).
pub(crate) const GRAPH_ROLES: &[(&str, &str, &str)] = &[
    (
        "df021288-bdef-4463-88db-98f22de89214",
        "User.Read.All",
        "Read all users' full profiles",
    ),
    (
        "246dd0d5-5bd0-4def-940b-0421030a5b68",
        "Policy.Read.All",
        "Read your organization's policies",
    ),
    (
        "5b567255-7703-4780-807c-7be8301ae99b",
        "Group.Read.All",
        "Read all groups",
    ),
    (
        "b0afded3-3588-46d8-8b3d-9842eff778da",
        "AuditLog.Read.All",
        "Read all audit log data",
    ),
    (
        "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        "Application.Read.All",
        "Read all applications",
    ),
    (
        "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
        "Directory.Read.All",
        "Read directory data",
    ),
    (
        "98830695-27a2-44f7-8c18-0c3ebc9698f6",
        "GroupMember.Read.All",
        "Read all group memberships",
    ),
];

/// Microsoft Graph delegated permissions (scope id, value, display name).
pub(crate) const GRAPH_SCOPES: &[(&str, &str, &str)] = &[
    (
        "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
        "User.Read",
        "Sign in and read user profile",
    ),
    (
        "37f7f235-527c-4136-accd-4a02d197296e",
        "openid",
        "Sign users in",
    ),
    (
        "14dad69e-099b-42c9-810b-d002981feec1",
        "profile",
        "View users' basic profile",
    ),
];

const EXCHANGE_ROLES: &[(&str, &str, &str)] = &[
    (
        "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
        "full_access_as_app",
        "Use Exchange Web Services with full access to all mailboxes",
    ),
    (
        "dc50a0fb-09a3-484d-be87-e023b12c6440",
        "Exchange.ManageAsApp",
        "Manage Exchange As Application",
    ),
];

/// The app role id of a Graph application permission, by value.
pub(crate) fn graph_role(value: &str) -> &'static str {
    GRAPH_ROLES
        .iter()
        .find(|(_, v, _)| *v == value)
        .map_or(DEFAULT_ACCESS_ROLE, |(id, _, _)| id)
}

pub(crate) fn exchange_role(value: &str) -> &'static str {
    EXCHANGE_ROLES
        .iter()
        .find(|(_, v, _)| *v == value)
        .map_or(DEFAULT_ACCESS_ROLE, |(id, _, _)| id)
}

/// The tenant and the backup app's credentials, identical for every seed.
pub(crate) fn identity() -> Identity {
    let mut rng = Rng::new(IDENTITY_SEED);
    Identity {
        tenant_id: rng.guid(),
        domain: DOMAIN.to_string(),
        org_name: ORG_NAME.to_string(),
        client_id: rng.guid(),
        client_secret: CLIENT_SECRET.to_string(),
    }
}

pub(crate) fn build(seed: Seed, identity: &Identity) -> Tenant {
    let mut tenant = match seed {
        Seed::Demo => demo::build(identity),
        Seed::Large { users } => large::build(users, identity),
        Seed::Empty => Tenant::new(),
    };
    if tenant.authorization_policy.is_null() {
        tenant.authorization_policy = authorization_policy();
    }
    if tenant.auth_methods_policy.is_null() {
        tenant.auth_methods_policy = auth_methods_policy(&mut Rng::new(7), &[], &[]);
    }
    tenant
}

/// `S-1-12-1-…`, the SID Entra derives from an object id.
pub(crate) fn security_identifier(id: &str) -> String {
    let bytes = uuid::Uuid::parse_str(id)
        .map(|u| *u.as_bytes())
        .unwrap_or_default();
    let parts: Vec<String> = bytes
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]).to_string())
        .collect();
    format!("S-1-12-1-{}", parts.join("-"))
}

/// Who an app role assignment is for, as Graph describes the principal.
pub(crate) struct Principal<'a> {
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    /// `User`, `Group` or `ServicePrincipal`.
    pub(crate) kind: &'static str,
}

impl<'a> Principal<'a> {
    /// The principal described by a stored user, group or service principal.
    pub(crate) fn of(object: &'a Value, kind: &'static str) -> Principal<'a> {
        Principal {
            id: str_field(object, "id"),
            name: str_field(object, "displayName"),
            kind,
        }
    }
}

pub(crate) fn str_field<'a>(object: &'a Value, key: &str) -> &'a str {
    object.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// An appRoleAssignment of `role` on the resource service principal `resource`.
pub(crate) fn assignment(
    rng: &mut Rng,
    role: &str,
    principal: &Principal<'_>,
    resource: &Value,
) -> Value {
    json!({
        "id": rng.assignment_id(),
        "appRoleId": role,
        "createdDateTime": rng.timestamp(),
        "principalDisplayName": principal.name,
        "principalId": principal.id,
        "principalType": principal.kind,
        "resourceDisplayName": str_field(resource, "displayName"),
        "resourceId": str_field(resource, "id"),
    })
}

/// Adds `assignment` to the resource's `appRoleAssignedTo` list.
pub(crate) fn assign(tenant: &mut Tenant, resource: &Value, assignment: Value) {
    tenant
        .app_role_assigned_to
        .entry(str_field(resource, "id").to_string())
        .or_default()
        .push(assignment);
}

fn app_role(id: &str, value: &str, name: &str, members: &[&str]) -> Value {
    json!({
        "allowedMemberTypes": members,
        "description": format!("Allows the app to {}.", name.to_lowercase()),
        "displayName": name,
        "id": id,
        "isEnabled": true,
        "origin": "Application",
        "value": value,
    })
}

fn first_party_sp(
    rng: &mut Rng,
    app_id: &str,
    name: &str,
    roles: &[(&str, &str, &str)],
    names: &[&str],
) -> Value {
    let app_roles: Vec<Value> = roles
        .iter()
        .map(|(id, value, display)| app_role(id, value, display, &["Application"]))
        .collect();
    with_service_principal_defaults(json!({
        "id": rng.guid(),
        "accountEnabled": true,
        "appDisplayName": name,
        "appId": app_id,
        "appOwnerOrganizationId": MICROSOFT_TENANT,
        "appRoleAssignmentRequired": false,
        "appRoles": app_roles,
        "createdDateTime": rng.timestamp(),
        "displayName": name,
        "servicePrincipalNames": names,
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMultipleOrgs",
    }))
}

/// The Microsoft Graph service principal every tenant has.
pub(crate) fn graph_sp(rng: &mut Rng) -> Value {
    let mut sp = first_party_sp(
        rng,
        GRAPH_APP_ID,
        "Microsoft Graph",
        GRAPH_ROLES,
        // Graph lists these in no particular order; keep it that way.
        &[
            "https://graph.microsoft.com/",
            "00000003-0000-0000-c000-000000000000/ags.windows.net",
            "00000003-0000-0000-c000-000000000000",
            "https://canary.graph.microsoft.com",
            "https://graph.microsoft.com",
            "https://ags.windows.net",
            "https://graph.microsoft.us",
            "https://dod-graph.microsoft.us",
        ],
    );
    let scopes: Vec<Value> = GRAPH_SCOPES
        .iter()
        .map(|(id, value, name)| {
            json!({
                "adminConsentDescription": format!("Allows the app to {}.", name.to_lowercase()),
                "adminConsentDisplayName": name,
                "id": id,
                "isEnabled": true,
                "type": "User",
                "userConsentDescription": format!("Allows the app to {} on your behalf.", name.to_lowercase()),
                "userConsentDisplayName": name,
                "value": value,
            })
        })
        .collect();
    sp["oauth2PermissionScopes"] = Value::Array(scopes);
    sp
}

/// The service principal Graph creates in any tenant for one of Microsoft's own
/// multi-tenant applications, which have no application object in the tenant. `None`
/// for an appId the emulator does not know.
pub(crate) fn microsoft_service_principal(app_id: &str) -> Option<Value> {
    // The template's id and timestamp are replaced by the create; any seed will do.
    let mut rng = Rng::new(0);
    let mut sp = match app_id.to_ascii_lowercase().as_str() {
        GRAPH_APP_ID => graph_sp(&mut rng),
        EXCHANGE_APP_ID => exchange_sp(&mut rng),
        _ => return None,
    };
    if let Some(map) = sp.as_object_mut() {
        map.remove("id");
        map.remove("createdDateTime");
    }
    Some(sp)
}

/// The Office 365 Exchange Online service principal.
pub(crate) fn exchange_sp(rng: &mut Rng) -> Value {
    first_party_sp(
        rng,
        EXCHANGE_APP_ID,
        "Office 365 Exchange Online",
        EXCHANGE_ROLES,
        &[
            "https://outlook.office365.com/",
            EXCHANGE_APP_ID,
            "https://outlook.office.com/",
        ],
    )
}

/// `requiredResourceAccess` entry for Microsoft Graph application permissions and scopes.
pub(crate) fn graph_access(roles: &[&str], scopes: &[&str]) -> Value {
    let mut access: Vec<Value> = scopes
        .iter()
        .filter_map(|s| GRAPH_SCOPES.iter().find(|(_, v, _)| v == s))
        .map(|(id, _, _)| json!({"id": id, "type": "Scope"}))
        .collect();
    access.extend(
        roles
            .iter()
            .map(|r| json!({"id": graph_role(r), "type": "Role"})),
    );
    json!({"resourceAppId": GRAPH_APP_ID, "resourceAccess": access})
}

/// A client secret as Graph lists it: the hint only, never the secret itself.
pub(crate) fn password_credential(rng: &mut Rng, name: &str, hint: &str) -> Value {
    let start = rng.timestamp();
    let end = format!(
        "{}{}",
        (start[..4].parse::<u32>().unwrap_or(2024)) + 2,
        &start[4..]
    );
    json!({
        "customKeyIdentifier": null,
        "displayName": name,
        "endDateTime": end,
        "hint": hint,
        "keyId": rng.guid(),
        "secretText": null,
        "startDateTime": start,
    })
}

/// Fills the complex properties the directory materialises on every application even when
/// nobody set them (the schema calls them nullable, but Graph never returns them as null).
pub(crate) fn with_application_defaults(mut app: Value) -> Value {
    let defaults = [
        (
            "api",
            json!({"oauth2PermissionScopes": [], "preAuthorizedApplications": [], "knownClientApplications": []}),
        ),
        ("info", json!({})),
        (
            "parentalControlSettings",
            json!({"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"}),
        ),
        ("publicClient", json!({"redirectUris": []})),
        ("spa", json!({"redirectUris": []})),
        ("verifiedPublisher", json!({})),
        (
            "web",
            json!({"redirectUris": [], "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}}),
        ),
    ];
    for (key, value) in defaults {
        if app.get(key).is_none_or(Value::is_null) {
            app[key] = value;
        }
    }
    app
}

/// The service-principal counterpart of [`with_application_defaults`].
pub(crate) fn with_service_principal_defaults(mut sp: Value) -> Value {
    for key in ["info", "verifiedPublisher"] {
        if sp.get(key).is_none_or(Value::is_null) {
            sp[key] = json!({});
        }
    }
    sp
}

/// The tenant's `authorizationPolicy` with a typical hardened configuration.
pub(crate) fn authorization_policy() -> Value {
    json!({
        "id": "authorizationPolicy",
        "allowInvitesFrom": "adminsAndGuestInviters",
        "allowedToSignUpEmailBasedSubscriptions": false,
        "allowedToUseSSPR": true,
        "allowEmailVerifiedUsersToJoinOrganization": false,
        "allowUserConsentForRiskyApps": false,
        "blockMsolPowerShell": true,
        "description": "Used to manage authorization related settings across the company.",
        "displayName": "Authorization Policy",
        "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
        "defaultUserRolePermissions": {
            "allowedToCreateApps": false,
            "allowedToCreateSecurityGroups": true,
            "allowedToCreateTenants": false,
            "allowedToReadBitlockerKeysForOwnedDevice": true,
            "allowedToReadOtherUsers": true,
            "permissionGrantPoliciesAssigned": [
                "ManagePermissionGrantsForSelf.microsoft-user-default-low",
                "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team",
                "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-chat"
            ]
        }
    })
}

fn group_target(id: &str) -> Value {
    json!({"targetType": "group", "id": id, "isRegistrationRequired": false})
}

/// The `authenticationMethodsPolicy` with six method configurations. `pilot` groups get
/// FIDO2 and Temporary Access Pass; `excluded` groups are exempt from SMS and email.
pub(crate) fn auth_methods_policy(rng: &mut Rng, pilot: &[&str], excluded: &[&str]) -> Value {
    let all_users = json!([group_target("all_users")]);
    let pilot_targets: Vec<Value> = pilot.iter().map(|g| group_target(g)).collect();
    let excluded_targets: Vec<Value> = excluded
        .iter()
        .map(|g| json!({"targetType": "group", "id": g}))
        .collect();
    json!({
        "id": "authenticationMethodsPolicy",
        "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
        "lastModifiedDateTime": rng.timestamp(),
        "policyVersion": "1.5",
        "policyMigrationState": "migrationComplete",
        "reconfirmationInDays": 0,
        "registrationEnforcement": {
            "authenticationMethodsRegistrationCampaign": {
                "snoozeDurationInDays": 1,
                "enforceRegistrationAfterAllowedSnoozes": true,
                "state": "default",
                "excludeTargets": [],
                "includeTargets": [{"id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}]
            }
        },
        "authenticationMethodConfigurations": [
            {
                "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                "id": "Fido2",
                "state": "enabled",
                "isSelfServiceRegistrationAllowed": true,
                "isAttestationEnforced": true,
                "keyRestrictions": {"isEnforced": false, "enforcementType": "block", "aaGuids": []},
                "excludeTargets": [],
                "includeTargets": pilot_targets.clone(),
            },
            {
                "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
                "id": "MicrosoftAuthenticator",
                "state": "enabled",
                "isSoftwareOathEnabled": false,
                "featureSettings": {
                    "displayAppInformationRequiredState": {"state": "enabled", "includeTarget": {"targetType": "group", "id": "all_users"}, "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}},
                    "displayLocationInformationRequiredState": {"state": "default", "includeTarget": {"targetType": "group", "id": "all_users"}, "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}}
                },
                "excludeTargets": [],
                "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false, "authenticationMode": "any"}],
            },
            {
                "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                "id": "Sms",
                "state": "disabled",
                "excludeTargets": excluded_targets.clone(),
                "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false, "isUsableForSignIn": true}],
            },
            {
                "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
                "id": "TemporaryAccessPass",
                "state": "enabled",
                "defaultLifetimeInMinutes": 60,
                "defaultLength": 8,
                "minimumLifetimeInMinutes": 60,
                "maximumLifetimeInMinutes": 480,
                "isUsableOnce": false,
                "excludeTargets": [],
                "includeTargets": pilot_targets,
            },
            {
                "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
                "id": "Email",
                "state": "enabled",
                "allowExternalIdToUseEmailOtp": "default",
                "excludeTargets": excluded_targets,
                "includeTargets": all_users.clone(),
            },
            {
                "@odata.type": "#microsoft.graph.x509CertificateAuthenticationMethodConfiguration",
                "id": "X509Certificate",
                "state": "disabled",
                "certificateUserBindings": [
                    {"x509CertificateField": "PrincipalName", "userProperty": "onPremisesUserPrincipalName", "priority": 1},
                    {"x509CertificateField": "RFC822Name", "userProperty": "userPrincipalName", "priority": 2}
                ],
                "authenticationModeConfiguration": {"x509CertificateAuthenticationDefaultMode": "x509CertificateSingleFactor", "rules": []},
                "excludeTargets": [],
                "includeTargets": all_users,
            }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::store::Kind;

    #[test]
    fn seeds_are_deterministic() {
        let id = identity();
        assert_eq!(id.tenant_id, identity().tenant_id);
        let a = build(Seed::Demo, &id);
        let b = build(Seed::Demo, &id);
        for kind in Kind::ALL {
            assert_eq!(a.objects(kind), b.objects(kind), "{}", kind.name());
        }
        assert_eq!(a.group_members, b.group_members);
        assert_eq!(a.app_role_assigned_to, b.app_role_assigned_to);
    }

    #[test]
    fn empty_seed_has_only_the_policies() {
        let t = build(Seed::Empty, &identity());
        assert!(Kind::ALL.iter().all(|k| t.objects(*k).is_empty()));
        assert!(t.auth_methods_policy.is_object() && t.authorization_policy.is_object());
    }
}
