//! The `large` seed: a synthetic tenant at benchmark scale.
//!
//! For N users: N/5 groups averaging 25 members (some nested), N/20 applications each with a
//! service principal (1–2 owners, a few appRoleAssignedTo entries) plus the Microsoft Graph
//! service principal their permissions point at, min(300, max(5, N/300))
//! Conditional Access policies and 50 named locations. Objects hold only the properties that
//! are set, so 100k users stay compact; the renderer fills in the rest when serving.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::{
    assign, assignment, auth_methods_policy, authorization_policy, graph_access, graph_role,
    graph_sp, password_credential, with_application_defaults, with_service_principal_defaults,
    Principal, DEFAULT_ACCESS_ROLE, MAIL_DOMAIN,
};
use crate::emulator::auth::Identity;
use crate::emulator::rng::{timestamp, Rng};
use crate::emulator::store::{Kind, Tenant};

const LARGE_SEED: u64 = 0x1A26_E5EE_D000;
const NAMED_LOCATIONS: usize = 50;
const COUNTRY_LOCATIONS: usize = 10;

const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloé", "Dev", "Elif", "Femi", "Greta", "Hiro", "Ines", "Jamal", "Kai", "Lena",
    "Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen",
    "Ximena", "Yusuf", "Zara",
];
const LAST: &[&str] = &[
    "Andersen", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Hughes", "Ito",
    "Jensen", "Kowalski", "Li", "Martin", "Nakamura", "O'Neill", "Patel", "Rossi", "Silva",
    "Tanaka", "Novak", "Walsh", "Yilmaz", "Zhang",
];
const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Human Resources",
    "Legal",
    "Operations",
    "Support",
    "Research",
    "Facilities",
];
const TITLES: &[&str] = &[
    "Engineer",
    "Senior Engineer",
    "Manager",
    "Analyst",
    "Director",
    "Specialist",
    "Consultant",
    "Coordinator",
    "Administrator",
    "Associate",
];
const WORDS: &[&str] = &[
    "Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris",
    "Juniper", "Keystone", "Lumen", "Meridian", "Nimbus", "Orbit", "Pioneer", "Quartz", "Summit",
    "Vector",
];
const COUNTRIES: &[&str] = &["KP", "IR", "RU", "BY", "CN", "SY", "CU", "VE", "MM", "AF"];
const STATES: &[&str] = &["enabled", "disabled", "enabledForReportingButNotEnforced"];

pub(super) fn build(users: usize, identity: &Identity) -> Tenant {
    let mut rng = Rng::new(LARGE_SEED);
    let mut tenant = Tenant::new();
    let user_ids = add_users(&mut rng, &mut tenant, users);
    let group_ids = add_groups(&mut rng, &mut tenant, &user_ids, users / 5);
    add_apps(
        &mut rng,
        &mut tenant,
        &user_ids,
        &group_ids,
        users / 20,
        identity,
    );
    let locations = add_named_locations(&mut rng, &mut tenant);
    let policies = (users / 300).clamp(5, 300);
    add_ca_policies(
        &mut rng,
        &mut tenant,
        &user_ids,
        &group_ids,
        &locations,
        policies,
    );
    let pilot: Vec<&str> = group_ids.iter().take(1).map(String::as_str).collect();
    let excluded: Vec<&str> = group_ids
        .iter()
        .skip(1)
        .take(1)
        .map(String::as_str)
        .collect();
    tenant.auth_methods_policy = auth_methods_policy(&mut rng, &pilot, &excluded);
    tenant.authorization_policy = authorization_policy();
    tenant
}

/// Random distinct-ish picks: duplicates collapse in the set, which only trims the count.
fn sample(rng: &mut Rng, from: &[String], n: usize) -> BTreeSet<String> {
    if from.is_empty() {
        return BTreeSet::new();
    }
    (0..n).map(|_| rng.pick(from).clone()).collect()
}

fn add_users(rng: &mut Rng, tenant: &mut Tenant, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let given = *rng.pick(FIRST);
        let surname = *rng.pick(LAST);
        let nick = format!("{}.{}{i}", ascii_lower(given), ascii_lower(surname));
        let upn = format!("{nick}@{MAIL_DOMAIN}");
        let id = rng.guid();
        let user = json!({
            "id": id,
            "accountEnabled": i % 37 != 0,
            "createdDateTime": timestamp((i as u64 * 613) % (3 * 365 * 86_400)),
            "department": rng.pick(DEPARTMENTS),
            "displayName": format!("{given} {surname}"),
            "givenName": given,
            "jobTitle": rng.pick(TITLES),
            "mail": upn,
            "mailNickname": nick,
            "surname": surname,
            "usageLocation": "US",
            "userPrincipalName": upn,
            "userType": "Member",
        });
        tenant.insert("users", user);
        ids.push(id);
    }
    ids
}

/// A mail nickname fragment: ASCII letters only, as Entra requires.
fn ascii_lower(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn add_groups(rng: &mut Rng, tenant: &mut Tenant, users: &[String], count: usize) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(count);
    for j in 0..count {
        let department = *rng.pick(DEPARTMENTS);
        let word = *rng.pick(WORDS);
        let nick = format!("{}-{}-{j}", ascii_lower(department), ascii_lower(word));
        let id = rng.guid();
        let group = synthetic_group(rng, &id, &nick, department, j);
        let size = rng.between(15, 35);
        let mut members = sample(rng, users, size);
        // Every twentieth group nests an earlier one, as teams-of-teams do.
        if j % 20 == 19 {
            members.insert(ids[rng.below(j)].clone());
        }
        tenant.group_members.insert(id.clone(), members);
        let owners = rng.between(1, 2);
        tenant
            .group_owners
            .insert(id.clone(), sample(rng, users, owners));
        tenant.insert("groups", group);
        ids.push(id);
    }
    ids
}

fn synthetic_group(rng: &mut Rng, id: &str, nick: &str, department: &str, j: usize) -> Value {
    let created = rng.timestamp();
    let mut group = json!({
        "id": id,
        "createdDateTime": created,
        "description": format!("{department} working group {j}"),
        "displayName": format!("{department} {nick}"),
        "mailNickname": nick,
        "renewedDateTime": created,
    });
    let unified = j % 4 == 0;
    group["groupTypes"] = match (unified, j % 50 == 49) {
        (true, _) => json!(["Unified"]),
        (false, true) => json!(["DynamicMembership"]),
        (false, false) => json!([]),
    };
    if j % 50 == 49 && !unified {
        group["membershipRule"] = json!(format!("user.department -eq \"{department}\""));
        group["membershipRuleProcessingState"] = json!("On");
    }
    group["mailEnabled"] = json!(unified);
    group["securityEnabled"] = json!(!unified);
    if unified {
        let mail = format!("{nick}@{MAIL_DOMAIN}");
        group["proxyAddresses"] = json!([format!("SMTP:{mail}")]);
        group["mail"] = json!(mail);
        group["visibility"] = json!(if j % 8 == 0 { "Private" } else { "Public" });
    }
    group
}

fn add_apps(
    rng: &mut Rng,
    tenant: &mut Tenant,
    users: &[String],
    groups: &[String],
    count: usize,
    identity: &Identity,
) {
    let graph = graph_sp(rng);
    for j in 0..count {
        let app = synthetic_app(rng, j);
        let sp = app_service_principal(rng, &app, identity);
        let owners = rng.between(1, 2);
        let owners = sample(rng, users, owners);
        tenant.app_owners.insert(str_of(&app, "id"), owners.clone());
        tenant.sp_owners.insert(str_of(&sp, "id"), owners);
        assign_principals(rng, tenant, &sp, users, groups);
        if j % 10 == 0 {
            let a = assignment(
                rng,
                graph_role("User.Read.All"),
                &Principal::of(&sp, "ServicePrincipal"),
                &graph,
            );
            assign(tenant, &graph, a);
        }
        tenant.insert("applications", with_application_defaults(app));
        tenant.insert("servicePrincipals", with_service_principal_defaults(sp));
    }
    tenant.insert("servicePrincipals", graph);
}

fn str_of(object: &Value, key: &str) -> String {
    super::str_field(object, key).to_string()
}

fn synthetic_app(rng: &mut Rng, j: usize) -> Value {
    let app_id = rng.guid();
    let name = format!("{} {} {j}", rng.pick(WORDS), rng.pick(WORDS));
    let mut app = json!({
        "id": rng.guid(),
        "appId": app_id,
        "createdDateTime": rng.timestamp(),
        "displayName": name,
        "signInAudience": "AzureADMyOrg",
        "appRoles": [{
            "allowedMemberTypes": ["User"],
            "description": "Use the application",
            "displayName": "User",
            "id": rng.guid(),
            "isEnabled": true,
            "value": "App.User",
        }],
        "requiredResourceAccess": [graph_access(&[], &["User.Read"])],
        "web": {"redirectUris": [format!("https://app{j}.{MAIL_DOMAIN}/signin-oidc")]},
    });
    if j % 3 == 0 {
        app["identifierUris"] = json!([format!("api://{app_id}")]);
        app["passwordCredentials"] = json!([password_credential(rng, "ci", "x9K")]);
    }
    app
}

fn app_service_principal(rng: &mut Rng, app: &Value, identity: &Identity) -> Value {
    json!({
        "id": rng.guid(),
        "accountEnabled": true,
        "appDisplayName": app["displayName"],
        "appId": app["appId"],
        "appOwnerOrganizationId": identity.tenant_id,
        "appRoleAssignmentRequired": false,
        "appRoles": app["appRoles"],
        "createdDateTime": rng.timestamp(),
        "displayName": app["displayName"],
        "servicePrincipalNames": [app["appId"]],
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMyOrg",
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
    })
}

/// Two to four users or groups assigned to the app's role (or default access).
fn assign_principals(
    rng: &mut Rng,
    tenant: &mut Tenant,
    sp: &Value,
    users: &[String],
    groups: &[String],
) {
    let role = sp["appRoles"][0]["id"]
        .as_str()
        .unwrap_or(DEFAULT_ACCESS_ROLE)
        .to_string();
    let mut planned = Vec::new();
    for _ in 0..rng.between(2, 4) {
        let (kind, pool, principal_type) = if rng.below(3) == 0 && !groups.is_empty() {
            (Kind::Groups, groups, "Group")
        } else {
            (Kind::Users, users, "User")
        };
        if pool.is_empty() {
            continue;
        }
        let id = rng.pick(pool);
        if let Some(object) = tenant.objects(kind).get(id) {
            let role = if rng.below(4) == 0 {
                DEFAULT_ACCESS_ROLE
            } else {
                role.as_str()
            };
            planned.push(assignment(
                rng,
                role,
                &Principal::of(object, principal_type),
                sp,
            ));
        }
    }
    for a in planned {
        assign(tenant, sp, a);
    }
}

fn add_named_locations(rng: &mut Rng, tenant: &mut Tenant) -> Vec<String> {
    let mut ids = Vec::with_capacity(NAMED_LOCATIONS);
    for k in 0..NAMED_LOCATIONS {
        let id = rng.guid();
        let created = rng.timestamp();
        let location = if k < NAMED_LOCATIONS - COUNTRY_LOCATIONS {
            let ranges: Vec<Value> = (0..rng.between(1, 3))
                .map(|r| {
                    if r == 1 {
                        json!({"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": format!("2001:db8:{k:x}::/48")})
                    } else {
                        json!({"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": format!("10.{k}.{}.0/24", r * 16)})
                    }
                })
                .collect();
            json!({
                "@odata.type": "#microsoft.graph.ipNamedLocation",
                "id": id, "createdDateTime": created, "modifiedDateTime": created,
                "displayName": format!("Site {k:02} ({})", rng.pick(WORDS)),
                "ipRanges": ranges, "isTrusted": k % 5 == 0,
            })
        } else {
            let countries: BTreeSet<&str> = (0..rng.between(2, 4))
                .map(|_| *rng.pick(COUNTRIES))
                .collect();
            json!({
                "@odata.type": "#microsoft.graph.countryNamedLocation",
                "id": id, "createdDateTime": created, "modifiedDateTime": created,
                "displayName": format!("Blocked countries {k:02}"),
                "countriesAndRegions": countries.into_iter().rev().collect::<Vec<_>>(),
                "countryLookupMethod": "clientIpAddress",
                "includeUnknownCountriesAndRegions": k % 2 == 0,
            })
        };
        tenant.insert("namedLocations", location);
        ids.push(id);
    }
    ids
}

fn add_ca_policies(
    rng: &mut Rng,
    tenant: &mut Tenant,
    users: &[String],
    groups: &[String],
    locations: &[String],
    count: usize,
) {
    for i in 0..count {
        let include_users: Vec<String> = if i % 3 == 0 {
            vec!["All".into()]
        } else {
            sample(rng, users, 2).into_iter().rev().collect()
        };
        let size = rng.between(1, 3);
        let include_groups: Vec<String> = sample(rng, groups, size).into_iter().rev().collect();
        let exclude_groups: Vec<String> = sample(rng, groups, 1).into_iter().collect();
        let grant = match i % 3 {
            0 => json!({"operator": "OR", "builtInControls": ["mfa"]}),
            1 => json!({"operator": "OR", "builtInControls": ["block"]}),
            _ => json!({"operator": "AND", "builtInControls": ["mfa", "compliantDevice"]}),
        };
        let policy = json!({
            "id": rng.guid(),
            "createdDateTime": rng.timestamp(),
            "displayName": format!("CA{:03}: {} policy", i + 1, rng.pick(WORDS)),
            "state": STATES[i % STATES.len()],
            "conditions": {
                "clientAppTypes": ["all"],
                "applications": {"includeApplications": ["All"]},
                "users": {"includeUsers": include_users, "includeGroups": include_groups, "excludeGroups": exclude_groups},
                "locations": {"includeLocations": [rng.pick(locations)], "excludeLocations": ["AllTrusted"]},
            },
            "grantControls": grant,
        });
        tenant.insert("conditionalAccessPolicies", policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::seed::identity;

    #[test]
    fn sizes_follow_the_user_count() {
        let t = build(1000, &identity());
        assert_eq!(t.objects(Kind::Users).len(), 1000);
        assert_eq!(t.objects(Kind::Groups).len(), 200);
        assert_eq!(t.objects(Kind::Applications).len(), 50);
        assert_eq!(t.objects(Kind::ServicePrincipals).len(), 51);
        assert_eq!(t.objects(Kind::ConditionalAccessPolicies).len(), 5);
        assert_eq!(t.objects(Kind::NamedLocations).len(), 50);
        let members: usize = t.group_members.values().map(BTreeSet::len).sum();
        assert!((4000..6000).contains(&members), "{members}");
    }

    #[test]
    fn tiny_tenants_do_not_panic() {
        for n in [0, 1, 7, 19] {
            let t = build(n, &identity());
            assert_eq!(t.objects(Kind::Users).len(), n);
        }
    }
}
