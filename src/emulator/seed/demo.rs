//! The `demo` seed: a small, realistic "Contoso" tenant.
//!
//! Besides looking like a real tenant, it is a fixture for the client's normaliser and YAML
//! writer, so it deliberately carries awkward strings in realistic places: quotes, colons,
//! emoji, leading zeros, multi-line text, values a YAML 1.1 reader would take for booleans,
//! nulls, numbers or dates, surrounding spaces, tabs, non-ASCII and the empty string. Arrays
//! are stored unsorted (proxy addresses, identifier URIs, CA group lists) on purpose.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Value};

use super::{
    assign, assignment, auth_methods_policy, authorization_policy, exchange_role, exchange_sp,
    graph_access, graph_role, graph_sp, password_credential, security_identifier, str_field,
    with_application_defaults, with_service_principal_defaults, Principal, DEFAULT_ACCESS_ROLE,
    DEFAULT_PERMISSIONS, DOMAIN, EXCHANGE_APP_ID, MAIL_DOMAIN,
};
use crate::emulator::auth::Identity;
use crate::emulator::rng::Rng;
use crate::emulator::store::Tenant;

const DEMO_SEED: u64 = 0x0DE4_0C0A_7050;

/// Directory role template ids that Conditional Access policies target.
const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const SECURITY_ADMIN: &str = "194ae4cb-b126-40b2-bd5b-6091b380977d";
const EXCHANGE_ADMIN: &str = "29232cdf-9323-42fd-ade2-1d097af3e4de";
const CA_ADMIN: &str = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9";
const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";

/// A partner tenant that guest policies name.
const FABRIKAM_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Regular staff: (mailNickname, given name, surname, job title, department, city).
/// Generated retail accounts added after the named staff.
const STORE_ASSOCIATES: usize = 40;

const STAFF: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "adele.vance",
        "Adele",
        "Vance",
        "Retail Manager",
        "Retail",
        "Bellevue",
    ),
    (
        "alex.wilber",
        "Alex",
        "Wilber",
        "Marketing Assistant",
        "Marketing",
        "San Diego",
    ),
    (
        "diego.siciliani",
        "Diego",
        "Siciliani",
        "HR Manager",
        "Human Resources",
        "Birmingham",
    ),
    (
        "grady.archie",
        "Grady",
        "Archie",
        "Designer",
        "Research & Development",
        "Bloomington",
    ),
    (
        "henrietta.mueller",
        "Henrietta",
        "Mueller",
        "Developer",
        "Engineering",
        "Bellevue",
    ),
    (
        "isaiah.langer",
        "Isaiah",
        "Langer",
        "Sales Rep",
        "Sales",
        "Tulsa",
    ),
    (
        "johanna.lorenz",
        "Johanna",
        "Lorenz",
        "Senior Engineer",
        "Engineering",
        "Louisville",
    ),
    (
        "joni.sherman",
        "Joni",
        "Sherman",
        "Paralegal",
        "Legal",
        "Charlotte",
    ),
    (
        "lee.gu",
        "Lee",
        "Gu",
        "Director",
        "Manufacturing",
        "Seattle",
    ),
    (
        "lidia.holloway",
        "Lidia",
        "Holloway",
        "Product Manager",
        "Engineering",
        "Tulsa",
    ),
    (
        "lynne.robbins",
        "Lynne",
        "Robbins",
        "Planner",
        "Retail",
        "Tulsa",
    ),
    (
        "megan.bowen",
        "Megan",
        "Bowen",
        "Marketing Manager",
        "Marketing",
        "Pittsburgh",
    ),
    (
        "miriam.graham",
        "Miriam",
        "Graham",
        "Director",
        "Sales",
        "San Diego",
    ),
    (
        "nestor.wilke",
        "Nestor",
        "Wilke",
        "Director",
        "Operations",
        "Seattle",
    ),
    (
        "patti.fernandez",
        "Patti",
        "Fernandez",
        "President",
        "Executive Management",
        "Louisville",
    ),
    (
        "pradeep.gupta",
        "Pradeep",
        "Gupta",
        "Accountant",
        "Finance",
        "Cairo",
    ),
    (
        "siobhan.obrien",
        "Siobhán",
        "O'Brien",
        "Security Analyst",
        "Security",
        "Dublin",
    ),
    (
        "quoted.name",
        "Quoted",
        "Name",
        "Test Account",
        "IT",
        "Redmond",
    ),
    (
        "taro.yamada",
        "太郎",
        "山田",
        "サポート担当",
        "日本語サポート",
        "東京",
    ),
    ("kim.no", "Kim", "No", "Analyst", "Finance", "Seoul"),
    // Surrounding spaces as they arrive from a careless HR import.
    (
        "jordan.tabs",
        "Jordan",
        "Tabs",
        "Engineer ",
        "Engineering",
        " Redmond",
    ),
];

/// Ids of the seeded objects by a short local name, for wiring up relationships.
#[derive(Default)]
struct Ids(HashMap<&'static str, String>);

impl Ids {
    fn set(&mut self, key: &'static str, object: &Value) {
        self.0.insert(key, str_field(object, "id").to_string());
    }

    fn get(&self, key: &str) -> &str {
        self.0.get(key).map(String::as_str).unwrap_or_default()
    }

    fn set_of(&self, keys: &[&str]) -> BTreeSet<String> {
        keys.iter().map(|k| self.get(k).to_string()).collect()
    }
}

pub(super) fn build(identity: &Identity) -> Tenant {
    let mut rng = Rng::new(DEMO_SEED);
    let mut tenant = Tenant::new();
    let mut ids = Ids::default();
    add_users(&mut rng, &mut tenant, &mut ids);
    add_groups(&mut rng, &mut tenant, &mut ids);
    add_apps(&mut rng, &mut tenant, &mut ids, identity);
    add_assignments(&mut rng, &mut tenant, &ids);
    add_named_locations(&mut rng, &mut tenant, &mut ids);
    add_ca_policies(&mut rng, &mut tenant, &ids);
    let pilot = [ids.get("mfa_pilot")];
    let excluded = [ids.get("break_glass")];
    tenant.auth_methods_policy = auth_methods_policy(&mut rng, &pilot, &excluded);
    tenant.authorization_policy = authorization_policy();
    tenant
}

/// A timestamp with the 7-digit fraction Conditional Access writes.
fn precise_timestamp(rng: &mut Rng) -> String {
    let base = rng.timestamp();
    let fraction = rng.below(10_000_000);
    format!("{}.{fraction:07}Z", base.trim_end_matches('Z'))
}

fn staff_user(rng: &mut Rng, row: &(&str, &str, &str, &str, &str, &str)) -> Value {
    let (nick, given, surname, title, department, city) = *row;
    let id = rng.guid();
    let upn = format!("{nick}@{MAIL_DOMAIN}");
    json!({
        "id": id,
        "accountEnabled": true,
        "assignedLicenses": [{"disabledPlans": [], "skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06"}],
        "businessPhones": [format!("+1 425 555 0{:03}", rng.below(1000))],
        "city": city,
        "companyName": "Contoso",
        "country": "United States",
        "createdDateTime": rng.timestamp(),
        "department": department,
        "displayName": format!("{given} {surname}"),
        "givenName": given,
        "identities": [{"signInType": "userPrincipalName", "issuer": DOMAIN, "issuerAssignedId": upn}],
        "jobTitle": title,
        "lastPasswordChangeDateTime": rng.timestamp(),
        "mail": upn,
        "mailNickname": nick,
        "officeLocation": format!("{}/{}", rng.between(10, 40), rng.between(1000, 3999)),
        "preferredLanguage": "en-US",
        // Graph keeps the primary (upper-case SMTP) wherever it was added; not sorted.
        "proxyAddresses": [format!("smtp:{nick}@{DOMAIN}"), format!("SMTP:{upn}")],
        "securityIdentifier": security_identifier(&id),
        "signInActivity": {
            "lastSignInDateTime": rng.timestamp(),
            "lastSignInRequestId": rng.guid(),
            "lastNonInteractiveSignInDateTime": rng.timestamp(),
            "lastNonInteractiveSignInRequestId": rng.guid(),
        },
        "surname": surname,
        "usageLocation": "US",
        "userPrincipalName": upn,
        "userType": "Member",
    })
}

fn set(object: &mut Value, key: &str, value: Value) {
    object[key] = value;
}

/// The per-person oddities: every tricky string lives where real tenants grow them.
fn personalise(nick: &str, user: &mut Value) {
    match nick {
        "lee.gu" => set(user, "employeeId", json!("007")),
        "siobhan.obrien" => set(user, "postalCode", json!("01234")),
        "quoted.name" => set(user, "displayName", json!("\"Quoted\" Name")),
        "henrietta.mueller" => set(user, "officeLocation", json!("1e3")),
        "grady.archie" => set(user, "officeLocation", json!("0x1F")),
        "taro.yamada" => {
            set(user, "displayName", json!("山田 太郎"));
            set(user, "country", json!("Japan"));
            set(user, "usageLocation", json!("JP"));
            set(user, "preferredLanguage", json!("ja-JP"));
        }
        "jordan.tabs" => {
            set(user, "streetAddress", json!("1 Microsoft Way\tBuilding 92"));
            set(user, "companyName", json!(""));
        }
        // HR-sync flags in extension attributes, the classic home of "yes"/"no" strings.
        "adele.vance" => set(
            user,
            "onPremisesExtensionAttributes",
            json!({
                "extensionAttribute1": "yes",
                "extensionAttribute2": "on",
                "extensionAttribute3": "12:30",
                "extensionAttribute4": "2024-01-01",
                "extensionAttribute5": "true",
            }),
        ),
        "alex.wilber" => set(
            user,
            "onPremisesExtensionAttributes",
            json!({"extensionAttribute1": "no", "extensionAttribute2": "off"}),
        ),
        _ => {}
    }
}

fn add_users(rng: &mut Rng, tenant: &mut Tenant, ids: &mut Ids) {
    for row in STAFF {
        let mut user = staff_user(rng, row);
        personalise(row.0, &mut user);
        ids.set(row.0, &user);
        tenant.insert("users", user);
    }
    // A store's worth of plain accounts: the demo's HR import overwrites 50 users.
    for n in 1..=STORE_ASSOCIATES {
        let nick = format!("associate.{n:02}");
        let surname = format!("Associate {n:02}");
        let row = (
            nick.as_str(),
            "Store",
            surname.as_str(),
            "Retail Associate",
            "Retail",
            "Bellevue",
        );
        tenant.insert("users", staff_user(rng, &row));
    }
    for (key, user) in [
        ("zoe", guest(rng)),
        ("bg01", break_glass(rng, "01")),
        ("bg02", break_glass(rng, "02")),
        ("svc_ops", service_account(rng)),
    ] {
        ids.set(key, &user);
        tenant.insert("users", user);
    }
}

fn guest(rng: &mut Rng) -> Value {
    let upn = format!("zoe.muller_fabrikam.com#EXT#@{DOMAIN}");
    json!({
        "id": rng.guid(),
        "accountEnabled": true,
        "createdDateTime": rng.timestamp(),
        "creationType": "Invitation",
        "displayName": "Zoë Müller",
        "externalUserState": "Accepted",
        "externalUserStateChangeDateTime": rng.timestamp(),
        "givenName": "Zoë",
        "identities": [{"signInType": "userPrincipalName", "issuer": DOMAIN, "issuerAssignedId": upn}],
        "mail": "zoe.muller@fabrikam.com",
        "mailNickname": "zoe.muller_fabrikam.com#EXT#",
        "otherMails": ["zoe.muller@fabrikam.com"],
        "proxyAddresses": ["SMTP:zoe.muller@fabrikam.com"],
        "surname": "Müller",
        "userPrincipalName": upn,
        "userType": "Guest",
    })
}

fn break_glass(rng: &mut Rng, n: &str) -> Value {
    let upn = format!("bg{n}@{DOMAIN}");
    json!({
        "id": rng.guid(),
        "accountEnabled": true,
        "createdDateTime": rng.timestamp(),
        "displayName": format!("Break Glass {n}"),
        "identities": [{"signInType": "userPrincipalName", "issuer": DOMAIN, "issuerAssignedId": upn}],
        "mailNickname": format!("bg{n}"),
        "passwordPolicies": "DisablePasswordExpiration",
        "userPrincipalName": upn,
        "userType": "Member",
    })
}

fn service_account(rng: &mut Rng) -> Value {
    let upn = format!("svc-ops@{MAIL_DOMAIN}");
    json!({
        "id": rng.guid(),
        "accountEnabled": true,
        "createdDateTime": rng.timestamp(),
        // An HR export wrote these placeholders literally.
        "department": "null",
        "officeLocation": "~",
        "displayName": "Ops Bot",
        "jobTitle": "Service account",
        "mailNickname": "svc-ops",
        "passwordPolicies": "DisablePasswordExpiration, DisableStrongPassword",
        "userPrincipalName": upn,
        "userType": "Member",
    })
}

enum Flavor {
    Security,
    Unified { private: bool, team: bool },
    Dynamic { rule: &'static str },
}

fn group(rng: &mut Rng, name: &str, nick: &str, description: &str, flavor: Flavor) -> Value {
    let id = rng.guid();
    let created = rng.timestamp();
    let mut g = json!({
        "id": id,
        "createdDateTime": created,
        "description": description,
        "displayName": name,
        "mailNickname": nick,
        "renewedDateTime": created,
        "securityIdentifier": security_identifier(&id),
    });
    match flavor {
        Flavor::Security => {
            set(&mut g, "groupTypes", json!([]));
            set(&mut g, "mailEnabled", json!(false));
            set(&mut g, "securityEnabled", json!(true));
        }
        Flavor::Dynamic { rule } => {
            set(&mut g, "groupTypes", json!(["DynamicMembership"]));
            set(&mut g, "mailEnabled", json!(false));
            set(&mut g, "securityEnabled", json!(true));
            set(&mut g, "membershipRule", json!(rule));
            set(&mut g, "membershipRuleProcessingState", json!("On"));
        }
        Flavor::Unified { private, team } => {
            let mail = format!("{nick}@{MAIL_DOMAIN}");
            set(&mut g, "groupTypes", json!(["Unified"]));
            set(&mut g, "mailEnabled", json!(true));
            set(&mut g, "securityEnabled", json!(false));
            set(&mut g, "mail", json!(mail));
            set(
                &mut g,
                "visibility",
                json!(if private { "Private" } else { "Public" }),
            );
            set(
                &mut g,
                "proxyAddresses",
                json!([
                    format!("SPO:SPO_{}@SPO_{}", rng.guid(), rng.guid()),
                    format!("SMTP:{mail}"),
                    format!("smtp:{nick}@{DOMAIN}")
                ]),
            );
            set(
                &mut g,
                "resourceProvisioningOptions",
                json!(if team { vec!["Team"] } else { vec![] }),
            );
            set(
                &mut g,
                "resourceBehaviorOptions",
                json!(["WelcomeEmailDisabled"]),
            );
            set(&mut g, "hideFromAddressLists", json!(false));
            set(&mut g, "hideFromOutlookClients", json!(false));
        }
    }
    g
}

type GroupRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Flavor,
);

fn group_rows() -> Vec<GroupRow> {
    vec![
        (
            "all_staff",
            "All Staff",
            "allstaff",
            "Everyone at Contoso.\nCompany news and announcements.\nQuestions go to Ops: on-call.\n",
            Flavor::Unified { private: false, team: true },
        ),
        (
            "break_glass",
            "Break Glass Accounts",
            "breakglass",
            "Emergency access accounts. Excluded from Conditional Access.",
            Flavor::Security,
        ),
        ("launch", "🚀 Launch Team", "launchteam", "#hashtag", Flavor::Unified { private: true, team: false }),
        ("ops_oncall", "Ops: on-call", "ops-oncall", "Pager rotation for production incidents", Flavor::Security),
        ("platform", "Platform Engineers", "platform-eng", "Owns the shared platform", Flavor::Security),
        (
            "sales",
            "Sales (dynamic)",
            "sales-dynamic",
            "Everyone in the Sales department",
            Flavor::Dynamic { rule: "(user.department -eq \"Sales\") and (user.accountEnabled -eq true)" },
        ),
        ("finance", "Finance", "finance", "2024-01-01", Flavor::Security),
        ("mfa_pilot", "MFA Pilot", "mfa-pilot", " Passkey pilot ", Flavor::Security),
    ]
}

fn add_groups(rng: &mut Rng, tenant: &mut Tenant, ids: &mut Ids) {
    for (key, name, nick, description, flavor) in group_rows() {
        let mut g = group(rng, name, nick, description, flavor);
        // Only role-assignable groups may hold directory roles; emergency access needs them.
        if key == "break_glass" {
            g["isAssignableToRole"] = json!(true);
        }
        ids.set(key, &g);
        tenant.insert("groups", g);
    }
    let staff: Vec<&str> = STAFF.iter().map(|row| row.0).collect();
    let members: [(&str, Vec<&str>); 8] = [
        ("all_staff", staff),
        ("break_glass", vec!["bg01", "bg02"]),
        (
            "launch",
            vec!["megan.bowen", "alex.wilber", "lidia.holloway", "zoe"],
        ),
        // Nested: the platform team is on call as a whole.
        ("ops_oncall", vec!["nestor.wilke", "svc_ops", "platform"]),
        (
            "platform",
            vec![
                "johanna.lorenz",
                "henrietta.mueller",
                "grady.archie",
                "jordan.tabs",
            ],
        ),
        ("sales", vec!["isaiah.langer", "miriam.graham"]),
        (
            "finance",
            vec!["pradeep.gupta", "kim.no", "patti.fernandez"],
        ),
        (
            "mfa_pilot",
            vec!["siobhan.obrien", "diego.siciliani", "taro.yamada"],
        ),
    ];
    for (group, list) in members {
        tenant
            .group_members
            .insert(ids.get(group).to_string(), ids.set_of(&list));
    }
    let owners = [
        ("all_staff", vec!["patti.fernandez", "megan.bowen"]),
        ("launch", vec!["megan.bowen"]),
        ("ops_oncall", vec!["nestor.wilke"]),
        ("platform", vec!["johanna.lorenz"]),
        ("sales", vec!["miriam.graham"]),
        ("finance", vec!["patti.fernandez"]),
        ("mfa_pilot", vec!["siobhan.obrien"]),
    ];
    for (group, list) in owners {
        tenant
            .group_owners
            .insert(ids.get(group).to_string(), ids.set_of(&list));
    }
}

fn app_role(rng: &mut Rng, value: &str, name: &str) -> Value {
    json!({
        "allowedMemberTypes": ["User", "Application"],
        "description": format!("{name} of the HR portal"),
        "displayName": name,
        "id": rng.guid(),
        "isEnabled": true,
        "value": value,
    })
}

fn redirect_settings(uris: &[&str]) -> Value {
    Value::Array(
        uris.iter()
            .map(|u| json!({"uri": u, "index": null}))
            .collect(),
    )
}

fn hr_portal(rng: &mut Rng) -> Value {
    let app_id = rng.guid();
    let redirects = [
        "https://hr.contoso.com/signin-oidc",
        "https://hr.contoso.com/",
        "https://localhost:5001/signin-oidc",
    ];
    json!({
        "id": rng.guid(),
        "appId": app_id,
        "createdDateTime": rng.timestamp(),
        "description": "Self-service HR: leave, payslips and the org chart.",
        "displayName": "Contoso HR Portal",
        "groupMembershipClaims": "SecurityGroup",
        "identifierUris": ["https://hr.contoso.com", format!("api://{app_id}")],
        "notes": "Owner: HR Engineering\n  Secret rotates every 12 months.\n    Escalation: #hr-eng\n",
        "publisherDomain": MAIL_DOMAIN,
        "signInAudience": "AzureADMyOrg",
        "tags": ["HR", "yes", "LOB"],
        "api": {
            "requestedAccessTokenVersion": 2,
            "oauth2PermissionScopes": [{
                "adminConsentDescription": "Read HR records on behalf of the signed-in user.",
                "adminConsentDisplayName": "Read HR records",
                "id": rng.guid(),
                "isEnabled": true,
                "type": "User",
                "userConsentDescription": "Read your HR records.",
                "userConsentDisplayName": "Read your HR records",
                "value": "HR.Read",
            }],
        },
        "appRoles": [app_role(rng, "HR.Admin", "HR administrator"), app_role(rng, "HR.Reader", "HR reader")],
        "optionalClaims": {"idToken": [{"name": "groups", "source": null, "essential": false, "additionalProperties": []}]},
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [password_credential(rng, "prod", "Q~7")],
        "requiredResourceAccess": [graph_access(&["User.Read.All"], &["User.Read"])],
        "web": {
            "homePageUrl": "https://hr.contoso.com/",
            "logoutUrl": "https://hr.contoso.com/signout-oidc",
            "redirectUris": redirects,
            "redirectUriSettings": redirect_settings(&redirects),
            "implicitGrantSettings": {"enableIdTokenIssuance": true, "enableAccessTokenIssuance": false},
        },
    })
}

fn mobile_app(rng: &mut Rng) -> Value {
    let app_id = rng.guid();
    let broker = format!("ms-appx-web://microsoft.aad.brokerplugin/{app_id}");
    json!({
        "id": rng.guid(),
        "appId": app_id,
        "createdDateTime": rng.timestamp(),
        "displayName": "Contoso Mobile",
        "isFallbackPublicClient": true,
        "publisherDomain": MAIL_DOMAIN,
        "signInAudience": "AzureADandPersonalMicrosoftAccount",
        "api": {"requestedAccessTokenVersion": 2},
        "publicClient": {"redirectUris": ["msauth.com.contoso.mobile://auth", broker, "https://login.microsoftonline.com/common/oauth2/nativeclient"]},
        "spa": {"redirectUris": ["https://app.contoso.com/", "http://localhost:3000/"]},
        "requiredResourceAccess": [graph_access(&[], &["User.Read", "openid", "profile"])],
    })
}

fn launch_tracker(rng: &mut Rng) -> Value {
    let start = rng.timestamp();
    json!({
        "id": rng.guid(),
        "appId": rng.guid(),
        "createdDateTime": rng.timestamp(),
        "displayName": "Launch Tracker",
        "publisherDomain": MAIL_DOMAIN,
        "signInAudience": "AzureADMyOrg",
        "keyCredentials": [{
            "customKeyIdentifier": rng.base64_blob(20),
            "displayName": "CN=launch-tracker.contoso.com",
            "endDateTime": "2027-06-30T00:00:00Z",
            "key": rng.base64_blob(600),
            "keyId": rng.guid(),
            "startDateTime": start,
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
        }],
        "requiredResourceAccess": [{
            "resourceAppId": EXCHANGE_APP_ID,
            "resourceAccess": [{"id": exchange_role("full_access_as_app"), "type": "Role"}],
        }],
        "web": {"redirectUris": ["https://launch.contoso.com/auth"], "implicitGrantSettings": {"enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}},
    })
}

/// The app idgit itself signs in as; its `appId` is the emulator's client id.
fn backup_app(rng: &mut Rng, identity: &Identity) -> Value {
    json!({
        "id": rng.guid(),
        "appId": identity.client_id,
        "createdDateTime": rng.timestamp(),
        "description": "Nightly Entra ID configuration backup to Git.",
        "displayName": "idgit Backup",
        "publisherDomain": MAIL_DOMAIN,
        "signInAudience": "AzureADMyOrg",
        "passwordCredentials": [password_credential(rng, "idgit emulator", "emu")],
        "requiredResourceAccess": [graph_access(DEFAULT_PERMISSIONS, &[])],
    })
}

/// The service principal Entra creates for one of the tenant's own applications.
fn service_principal(
    rng: &mut Rng,
    app: &Value,
    identity: &Identity,
    assignment_required: bool,
) -> Value {
    let app_id = str_field(app, "appId");
    let mut names = vec![json!(app_id)];
    names.extend(
        app["identifierUris"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    let reply_urls = app["web"]["redirectUris"].clone();
    json!({
        "id": rng.guid(),
        "accountEnabled": true,
        "appDisplayName": app["displayName"],
        "appDescription": app["description"],
        "appId": app_id,
        "appOwnerOrganizationId": identity.tenant_id,
        "appRoleAssignmentRequired": assignment_required,
        "appRoles": app["appRoles"],
        "createdDateTime": rng.timestamp(),
        "displayName": app["displayName"],
        "homepage": app["web"]["homePageUrl"],
        "oauth2PermissionScopes": app["api"]["oauth2PermissionScopes"],
        "publisherName": "Contoso",
        "replyUrls": if reply_urls.is_null() { json!([]) } else { reply_urls },
        "servicePrincipalNames": names,
        "servicePrincipalType": "Application",
        "signInAudience": app["signInAudience"],
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp", "HideApp"],
    })
}

fn add_apps(rng: &mut Rng, tenant: &mut Tenant, ids: &mut Ids, identity: &Identity) {
    let apps = [
        ("hr", hr_portal(rng), true, vec!["diego.siciliani"]),
        (
            "mobile",
            mobile_app(rng),
            false,
            vec!["lidia.holloway", "johanna.lorenz"],
        ),
        (
            "launch_app",
            launch_tracker(rng),
            false,
            vec!["megan.bowen"],
        ),
        (
            "idgit",
            backup_app(rng, identity),
            false,
            vec!["nestor.wilke"],
        ),
    ];
    for (key, app, assignment_required, owners) in apps {
        let sp = service_principal(rng, &app, identity, assignment_required);
        tenant
            .app_owners
            .insert(str_field(&app, "id").to_string(), ids.set_of(&owners));
        tenant
            .sp_owners
            .insert(str_field(&sp, "id").to_string(), ids.set_of(&owners));
        ids.set(key, &app);
        ids.0.insert(sp_key(key), str_field(&sp, "id").to_string());
        tenant.insert("applications", with_application_defaults(app));
        tenant.insert("servicePrincipals", with_service_principal_defaults(sp));
    }
    let graph = graph_sp(rng);
    let exchange = exchange_sp(rng);
    ids.set("graph_sp", &graph);
    ids.set("exchange_sp", &exchange);
    tenant.insert("servicePrincipals", graph);
    tenant.insert("servicePrincipals", exchange);
    // A service principal as a group member: the tracker's automation joins the platform team.
    if let Some(members) = tenant.group_members.get_mut(ids.get("platform")) {
        members.insert(ids.get("launch_app_sp").to_string());
    }
}

/// The `Ids` key of an application's service principal.
fn sp_key(app_key: &str) -> &'static str {
    match app_key {
        "hr" => "hr_sp",
        "mobile" => "mobile_sp",
        "launch_app" => "launch_app_sp",
        _ => "idgit_sp",
    }
}

fn add_assignments(rng: &mut Rng, tenant: &mut Tenant, ids: &Ids) {
    let object = |collection: &str, key: &str| {
        tenant
            .get(collection, ids.get(key))
            .cloned()
            .unwrap_or_default()
    };
    let graph = object("servicePrincipals", "graph_sp");
    let exchange = object("servicePrincipals", "exchange_sp");
    let hr = object("servicePrincipals", "hr_sp");
    let mobile = object("servicePrincipals", "mobile_sp");
    let backup = object("servicePrincipals", "idgit_sp");
    let tracker = object("servicePrincipals", "launch_app_sp");
    let hr_roles: Vec<String> = hr["appRoles"]
        .as_array()
        .map(|roles| {
            roles
                .iter()
                .map(|r| str_field(r, "id").to_string())
                .collect()
        })
        .unwrap_or_default();
    let hr_role = |i: usize| {
        hr_roles
            .get(i)
            .map(String::as_str)
            .unwrap_or(DEFAULT_ACCESS_ROLE)
    };

    let mut planned: Vec<(Value, &Value, &str, &'static str)> = Vec::new();
    for permission in DEFAULT_PERMISSIONS {
        planned.push((
            backup.clone(),
            &graph,
            graph_role(permission),
            "ServicePrincipal",
        ));
    }
    planned.push((
        hr.clone(),
        &graph,
        graph_role("User.Read.All"),
        "ServicePrincipal",
    ));
    planned.push((
        tracker.clone(),
        &exchange,
        exchange_role("full_access_as_app"),
        "ServicePrincipal",
    ));
    planned.push((object("users", "diego.siciliani"), &hr, hr_role(0), "User"));
    planned.push((object("users", "quoted.name"), &hr, hr_role(1), "User"));
    planned.push((object("groups", "finance"), &hr, hr_role(1), "Group"));
    planned.push((
        object("groups", "all_staff"),
        &mobile,
        DEFAULT_ACCESS_ROLE,
        "Group",
    ));
    for (principal, resource, role, kind) in planned {
        let a = assignment(rng, role, &Principal::of(&principal, kind), resource);
        assign(tenant, resource, a);
    }
}

fn ip_location(rng: &mut Rng, name: &str, trusted: bool, ranges: &[&str]) -> Value {
    let ranges: Vec<Value> = ranges
        .iter()
        .map(|r| {
            let kind = if r.contains(':') {
                "iPv6CidrRange"
            } else {
                "iPv4CidrRange"
            };
            json!({"@odata.type": format!("#microsoft.graph.{kind}"), "cidrAddress": r})
        })
        .collect();
    let created = precise_timestamp(rng);
    json!({
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "id": rng.guid(),
        "createdDateTime": created,
        "displayName": name,
        "ipRanges": ranges,
        "isTrusted": trusted,
        "modifiedDateTime": created,
    })
}

fn add_named_locations(rng: &mut Rng, tenant: &mut Tenant, ids: &mut Ids) {
    let hq = ip_location(
        rng,
        "Contoso HQ",
        true,
        &["203.0.113.0/24", "2001:db8:1234::/48", "198.51.100.16/28"],
    );
    let branch = ip_location(
        rng,
        "Branch offices",
        false,
        &["2001:db8:beef::/56", "192.0.2.0/25"],
    );
    let countries = json!({
        "@odata.type": "#microsoft.graph.countryNamedLocation",
        "id": rng.guid(),
        "countriesAndRegions": ["KP", "IR", "RU", "BY"],
        "countryLookupMethod": "clientIpAddress",
        "createdDateTime": precise_timestamp(rng),
        "displayName": "Blocked countries",
        "includeUnknownCountriesAndRegions": true,
        "modifiedDateTime": precise_timestamp(rng),
    });
    for (key, location) in [
        ("hq", hq),
        ("branch", branch),
        ("blocked_countries", countries),
    ] {
        ids.set(key, &location);
        tenant.insert("namedLocations", location);
    }
}

/// Ids in descending order: a set-like list Graph returns unsorted.
fn unsorted(ids: &Ids, keys: &[&str]) -> Value {
    let mut list: Vec<&str> = keys.iter().map(|k| ids.get(k)).collect();
    list.sort_unstable_by(|a, b| b.cmp(a));
    json!(list)
}

fn ca_policy(
    rng: &mut Rng,
    name: &str,
    state: &str,
    conditions: Value,
    grant: Value,
    session: Value,
) -> Value {
    let mut policy = json!({
        "id": rng.guid(),
        "createdDateTime": precise_timestamp(rng),
        "displayName": name,
        "state": state,
        "conditions": conditions,
        "grantControls": grant,
        "sessionControls": session,
    });
    // Policies never edited since creation have no modification time.
    if rng.below(3) > 0 {
        policy["modifiedDateTime"] = json!(precise_timestamp(rng));
    }
    policy
}

fn grant(controls: &[&str]) -> Value {
    json!({"operator": "OR", "builtInControls": controls})
}

fn add_ca_policies(rng: &mut Rng, tenant: &mut Tenant, ids: &Ids) {
    let app_id = |key: &str| {
        tenant
            .get("applications", ids.get(key))
            .map(|a| str_field(a, "appId").to_string())
            .unwrap_or_default()
    };
    let (hr, mobile, launch) = (app_id("hr"), app_id("mobile"), app_id("launch_app"));
    let policies = [
        ca_policy(
            rng,
            "CA001: Require MFA for administrators",
            "enabled",
            json!({
                "clientAppTypes": ["all"],
                "applications": {"includeApplications": ["All"]},
                "users": {
                    "includeRoles": [GLOBAL_ADMIN, SECURITY_ADMIN, EXCHANGE_ADMIN, CA_ADMIN, USER_ADMIN],
                    "excludeGroups": [ids.get("break_glass")],
                },
            }),
            grant(&["mfa"]),
            Value::Null,
        ),
        ca_policy(
            rng,
            "CA002: Block legacy authentication",
            "enabled",
            json!({
                "clientAppTypes": ["exchangeActiveSync", "other"],
                "applications": {"includeApplications": ["All"]},
                "users": {"includeUsers": ["All"], "excludeGroups": [ids.get("break_glass")], "excludeUsers": [ids.get("svc_ops")]},
            }),
            grant(&["block"]),
            Value::Null,
        ),
        ca_policy(
            rng,
            "CA003: Require compliant device for Office 365",
            "enabledForReportingButNotEnforced",
            json!({
                "clientAppTypes": ["browser", "mobileAppsAndDesktopClients"],
                "applications": {"includeApplications": ["Office365"], "excludeApplications": [hr]},
                "users": {"includeUsers": ["None"], "includeGroups": unsorted(ids, &["all_staff", "launch", "finance"])},
                "platforms": {"includePlatforms": ["android", "iOS", "windows"], "excludePlatforms": []},
                "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]},
            }),
            grant(&["compliantDevice", "domainJoinedDevice"]),
            Value::Null,
        ),
        ca_policy(
            rng,
            "CA004: Guests: MFA every 12 hours",
            "disabled",
            json!({
                "clientAppTypes": ["all"],
                "applications": {"includeApplications": ["All"], "excludeApplications": [mobile]},
                "users": {
                    "includeUsers": ["GuestsOrExternalUsers"],
                    "excludeUsers": [ids.get("bg01"), ids.get("bg02")],
                    "excludeGuestsOrExternalUsers": {
                        "guestOrExternalUserTypes": "serviceProvider",
                        "externalTenants": {
                            "@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                            "membershipKind": "enumerated",
                            "members": [FABRIKAM_TENANT],
                        },
                    },
                },
            }),
            grant(&["mfa"]),
            json!({
                "signInFrequency": {"value": 12, "type": "hours", "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased", "isEnabled": true},
                "persistentBrowser": {"mode": "never", "isEnabled": true},
            }),
        ),
        ca_policy(
            rng,
            "CA005: Block untrusted countries",
            "enabled",
            json!({
                "clientAppTypes": ["all"],
                "applications": {"includeApplications": [launch, hr]},
                "users": {"includeUsers": ["All"], "excludeGroups": unsorted(ids, &["break_glass", "ops_oncall"])},
                "locations": {
                    "includeLocations": [ids.get("blocked_countries"), ids.get("branch")],
                    "excludeLocations": [ids.get("hq"), "AllTrusted"],
                },
            }),
            grant(&["block"]),
            Value::Null,
        ),
    ];
    for policy in policies {
        tenant.insert("conditionalAccessPolicies", policy);
    }
}
