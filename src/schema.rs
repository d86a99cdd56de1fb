//! JSON Schemas for backup files, one per kind. Pure.
//!
//! A schema describes a whole file of one kind: `properties:` with the kind's Graph type
//! (complex types, derived types chosen by `@odata.type`, enums, GUIDs, dates, integers)
//! and `relationships:` as the catalog stores them. idgit's own rules are written into
//! it from the catalog: properties the normalizer drops (secrets, volatile values) are
//! forbidden, with the catalog's reason as description; read-only properties say why;
//! references must be GUIDs or one of the values Graph documents for that property.
//!
//! The schemas are generated, here, from the embedded Graph type data and the catalog,
//! rather than written by hand: a hand-written schema would drift from the catalog the
//! day a property moves from one list to another. The generated files in
//! `schemas/kinds/` are this module's output, committed so that people and editors can
//! read them; a test keeps them equal to it (`IDGIT_UPDATE_SCHEMAS=1 cargo test --lib
//! schema` rewrites them). A backup writes the same text into the backup repository's
//! `schemas/` directory, and every object file's first line points an editor at it.
//!
//! Unknown properties are allowed: Graph gains properties, and directory objects carry
//! `extension_<appId>_<name>` properties that no schema can list. `idgit validate` warns
//! about them (see `validate`), and editors complete from the known ones.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use crate::catalog::{self, Kind, Prop, RefTarget, RelationshipItem, Select, Shape};

/// An object ID, an appId or a role template ID.
pub const GUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
const GUID_BODY: &str =
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const TIME_OF_DAY_PATTERN: &str = "^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?$";
const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Directory extension properties, `extension_<appId without dashes>_<name>`, which
/// any directory object may carry.
pub const EXTENSION_PATTERN: &str = "^extension_[0-9a-fA-F]{32}_.+$";

/// The values Graph accepts in place of an ID, per reference (kind, catalog path), as
/// documented for each property. Every other reference holds GUIDs only:
/// `conditions.users.excludeGroups`, for one, takes no keyword.
const SPECIAL_VALUES: &[(&str, &str, &[&str])] = &[
    (
        "conditional-access-policies",
        "conditions.users.includeUsers",
        &["All", "None", "GuestsOrExternalUsers"],
    ),
    (
        "conditional-access-policies",
        "conditions.users.excludeUsers",
        &["GuestsOrExternalUsers"],
    ),
    (
        "conditional-access-policies",
        "conditions.applications.includeApplications",
        &["All", "None", "Office365", "MicrosoftAdminPortals"],
    ),
    (
        "conditional-access-policies",
        "conditions.applications.excludeApplications",
        &["Office365", "MicrosoftAdminPortals"],
    ),
    (
        "conditional-access-policies",
        "conditions.locations.includeLocations",
        &["All", "AllTrusted"],
    ),
    (
        "conditional-access-policies",
        "conditions.locations.excludeLocations",
        &["AllTrusted"],
    ),
    (
        "conditional-access-policies",
        "conditions.clientApplications.includeServicePrincipals",
        &["ServicePrincipalsInMyTenant"],
    ),
    (
        "authentication-methods-policy",
        "authenticationMethodConfigurations.includeTargets.id",
        &["all_users"],
    ),
    (
        "authentication-methods-policy",
        "registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets.id",
        &["all_users"],
    ),
];

/// The properties a file of each kind must have besides `id`: what Graph needs to create
/// the object (per its documentation) and returns for every object, so that every
/// backed-up file has them. Non-nullable properties with a default
/// (`oauth2RequirePostResponse`) are not required: a file may leave them to Graph.
/// Singletons are only ever updated, so nothing is required of them.
const REQUIRED: &[(&str, &[&str])] = &[
    ("named-locations", &["displayName"]),
    ("users", &["displayName", "userPrincipalName"]),
    ("groups", &["displayName", "mailEnabled", "securityEnabled"]),
    ("applications", &["displayName"]),
    ("service-principals", &["appId"]),
    (
        "conditional-access-policies",
        &["conditions", "displayName", "state"],
    ),
];

/// Enum types that Graph declares with `IsFlags="true"`: the value is one or more
/// members joined by commas (`internalGuest,b2bCollaborationGuest`). The type data
/// does not carry the flag, so the list is kept here; a test checks that each is an
/// enum of the type data.
const FLAGS_ENUMS: &[&str] = &[
    "conditionalAccessGuestOrExternalUserTypes",
    "conditionalAccessInsiderRiskLevels",
    "conditionalAccessTransferMethods",
    "nativeAuthenticationApisEnabled",
    "weakAlgorithms",
];

/// Navigation properties that Graph expands on its own and the backup therefore stores,
/// with their types: the type data lists navigation properties by name only.
/// (owner type, property, type), from Microsoft's v1.0 metadata.
const EXPANDED_NAVIGATION: &[(&str, &str, &str)] = &[
    (
        "authenticationMethodsPolicy",
        "authenticationMethodConfigurations",
        "Collection(graph.authenticationMethodConfiguration)",
    ),
    (
        "emailAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.authenticationMethodTarget)",
    ),
    (
        "externalAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.authenticationMethodTarget)",
    ),
    (
        "fido2AuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.passkeyAuthenticationMethodTarget)",
    ),
    (
        "microsoftAuthenticatorAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.microsoftAuthenticatorAuthenticationMethodTarget)",
    ),
    (
        "qrCodePinAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.authenticationMethodTarget)",
    ),
    (
        "smsAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.smsAuthenticationMethodTarget)",
    ),
    (
        "softwareOathAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.authenticationMethodTarget)",
    ),
    (
        "temporaryAccessPassAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.authenticationMethodTarget)",
    ),
    (
        "verifiableCredentialsAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.verifiableCredentialAuthenticationMethodTarget)",
    ),
    (
        "voiceAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.authenticationMethodTarget)",
    ),
    (
        "x509CertificateAuthenticationMethodConfiguration",
        "includeTargets",
        "Collection(graph.authenticationMethodTarget)",
    ),
];

/// Types that only the expanded navigation properties above reach, so the type data
/// (which follows structural properties) lacks them. Same format as `graph_types.json`,
/// copied from Microsoft's v1.0 metadata; the Authenticator target's three `...State`
/// settings are not in that metadata but are in v1.0's documented response
/// (`authenticationmethodspolicy-get.md`, the `tests/fixtures/graph` sample), so Graph
/// returns them and backups hold them.
fn supplement() -> &'static Map<String, Value> {
    static TYPES: OnceLock<Map<String, Value>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let value = json!({
            "authenticationMethodTarget": {
                "kind": "EntityType",
                "base": "entity",
                "derived": [
                    "microsoftAuthenticatorAuthenticationMethodTarget",
                    "passkeyAuthenticationMethodTarget",
                    "smsAuthenticationMethodTarget",
                    "verifiableCredentialAuthenticationMethodTarget"
                ],
                "properties": [
                    {"name": "isRegistrationRequired", "nullable": false, "type": "Edm.Boolean"},
                    {"name": "targetType", "nullable": false, "type": "graph.authenticationMethodTargetType"}
                ]
            },
            "microsoftAuthenticatorAuthenticationMethodTarget": {
                "kind": "EntityType",
                "base": "authenticationMethodTarget",
                "properties": [
                    {"name": "authenticationMode", "nullable": false, "type": "graph.microsoftAuthenticatorAuthenticationMode"},
                    {"name": "displayAppInformationRequiredState", "type": "graph.advancedConfigState"},
                    {"name": "numberMatchingRequiredState", "type": "graph.advancedConfigState"},
                    {"name": "outlookMobileAllowedState", "type": "graph.advancedConfigState"}
                ]
            },
            "microsoftAuthenticatorAuthenticationMode": {
                "kind": "EnumType",
                "members": ["deviceBasedPush", "push", "any"]
            },
            "passkeyAuthenticationMethodTarget": {
                "kind": "EntityType",
                "base": "authenticationMethodTarget",
                "properties": [
                    {"name": "allowedPasskeyProfiles", "type": "Collection(Edm.Guid)"}
                ]
            },
            "smsAuthenticationMethodTarget": {
                "kind": "EntityType",
                "base": "authenticationMethodTarget",
                "properties": [
                    {"name": "isUsableForSignIn", "nullable": false, "type": "Edm.Boolean"}
                ]
            },
            "verifiableCredentialAuthenticationMethodTarget": {
                "kind": "EntityType",
                "base": "authenticationMethodTarget",
                "properties": [
                    {"name": "verifiedIdProfiles", "nullable": false, "type": "Collection(Edm.Guid)"}
                ]
            }
        });
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    })
}

/// The repository path of a kind's schema, relative to the repository root. In a backup
/// repository the schemas sit in one directory, `schemas/`.
pub fn file_name(kind: &Kind) -> String {
    format!("{}.schema.json", kind.name)
}

/// The schema of a kind, as the text written to `schemas/kinds/<kind>.schema.json` and
/// into backup repositories: pretty-printed, keys sorted, ending in a newline.
pub fn schema_text(kind: &Kind) -> &'static str {
    static TEXTS: OnceLock<BTreeMap<&'static str, String>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        catalog::KINDS
            .iter()
            .map(|k| {
                let text = serde_json::to_string_pretty(&schema_for(k)).unwrap_or_default();
                (k.name, text + "\n")
            })
            .collect()
    });
    texts.get(kind.name).map(String::as_str).unwrap_or_default()
}

/// The values allowed in place of a GUID at a reference of `kind`, if any.
pub fn special_values(kind: &Kind, path: &str) -> &'static [&'static str] {
    SPECIAL_VALUES
        .iter()
        .find(|(k, p, _)| *k == kind.name && *p == path)
        .map(|(_, _, values)| *values)
        .unwrap_or_default()
}

/// A pattern for a GUID or one of `specials`.
fn guid_or(specials: &[&str]) -> String {
    if specials.is_empty() {
        return GUID_PATTERN.to_string();
    }
    let mut alternatives = vec![GUID_BODY.to_string()];
    alternatives.extend(specials.iter().map(|s| regex_escape(s)));
    format!("^(?:{})$", alternatives.join("|"))
}

/// A pattern for one or more members of a flags enum, joined by commas.
fn flags_pattern(members: &[&str]) -> String {
    let one = format!("(?:{})", members.join("|"));
    format!("^{one}(?:,{one})*$")
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = !(c.is_ascii_alphanumeric() || c == '_');
            escape.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// What a pattern of these schemas asks for, in words: the message for a value that
/// does not match it.
pub fn pattern_message(pattern: &str) -> Option<String> {
    if pattern == GUID_PATTERN {
        return Some("not a GUID".into());
    }
    if pattern == TIME_OF_DAY_PATTERN {
        return Some("not a time of day (hh:mm:ss)".into());
    }
    if let Some(rest) = pattern
        .strip_prefix(&format!("^(?:{GUID_BODY}|"))
        .and_then(|r| r.strip_suffix(")$"))
    {
        let specials: Vec<String> = rest.split('|').map(unescape).collect();
        return Some(format!("not a GUID, nor one of: {}", specials.join(", ")));
    }
    let body = pattern.strip_prefix("^(?:")?;
    let (members, rest) = body.split_once(')')?;
    (rest == format!("(?:,(?:{members}))*$")).then(|| {
        let members: Vec<String> = members.split('|').map(unescape).collect();
        format!(
            "must be one or more of: {}, joined by commas",
            members.join(", ")
        )
    })
}

fn unescape(text: &str) -> String {
    text.replace('\\', "")
}

/// A structural property of a Graph type.
#[derive(Debug, Clone)]
struct PropDef {
    ty: String,
    nullable: bool,
}

type Props = BTreeMap<String, PropDef>;

/// A type's entry in the type data or the supplement.
fn type_entry(name: &str) -> Option<&'static Value> {
    catalog::graph_types()
        .get(name)
        .or_else(|| supplement().get(name))
}

fn is_enum(name: &str) -> bool {
    type_entry(name)
        .and_then(|t| t.get("kind"))
        .and_then(Value::as_str)
        == Some("EnumType")
}

fn enum_members(name: &str) -> Vec<&'static str> {
    type_entry(name)
        .and_then(|t| t.get("members"))
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn is_abstract(name: &str) -> bool {
    type_entry(name)
        .and_then(|t| t.get("abstract"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The properties a type declares itself, plus its expanded navigation properties.
fn own_props(name: &str) -> Props {
    let mut props = Props::new();
    let declared = type_entry(name)
        .and_then(|t| t.get("properties"))
        .and_then(Value::as_array);
    for prop in declared.into_iter().flatten() {
        let (Some(prop_name), Some(ty)) = (
            prop.get("name").and_then(Value::as_str),
            prop.get("type").and_then(Value::as_str),
        ) else {
            continue;
        };
        let nullable = prop.get("nullable").and_then(Value::as_bool) != Some(false);
        props.insert(
            prop_name.to_string(),
            PropDef {
                ty: ty.to_string(),
                nullable,
            },
        );
    }
    for (owner, prop_name, ty) in EXPANDED_NAVIGATION {
        if *owner == name {
            props.insert(
                prop_name.to_string(),
                PropDef {
                    ty: ty.to_string(),
                    nullable: true,
                },
            );
        }
    }
    props
}

/// The type and its base types, the most basic first.
fn chain(name: &str) -> Vec<String> {
    let mut names = vec![name.to_string()];
    let mut current = type_entry(name)
        .and_then(|t| t.get("base"))
        .and_then(Value::as_str);
    while let Some(base) = current {
        if names.iter().any(|n| n == base) {
            break;
        }
        names.push(base.to_string());
        current = type_entry(base)
            .and_then(|t| t.get("base"))
            .and_then(Value::as_str);
    }
    names.reverse();
    names
}

/// Every property of a type, its base types' included.
fn all_props(name: &str) -> Props {
    chain(name).iter().flat_map(|t| own_props(t)).collect()
}

/// The properties `derived` adds to `ancestor`.
fn props_between(derived: &str, ancestor: &str) -> Props {
    let names = chain(derived);
    let start = names
        .iter()
        .position(|n| n == ancestor)
        .map_or(0, |p| p + 1);
    names[start..].iter().flat_map(|t| own_props(t)).collect()
}

/// Every type derived from `name`, at any depth, in a stable order. Includes derived
/// types the type data does not describe (they are valid `@odata.type` values).
fn descendants(name: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![name.to_string()];
    while let Some(current) = stack.pop() {
        let derived = type_entry(&current)
            .and_then(|t| t.get("derived"))
            .and_then(Value::as_array);
        for d in derived.into_iter().flatten().filter_map(Value::as_str) {
            if !found.iter().any(|f| f == d) && d != name {
                found.push(d.to_string());
                stack.push(d.to_string());
            }
        }
    }
    found.sort();
    found
}

fn odata_type(name: &str) -> String {
    format!("#microsoft.graph.{name}")
}

/// Whether a property must be present: Graph declares it non-nullable and it is a value
/// the normalizer never drops (a scalar: collections and objects vanish when empty).
fn is_required(prop: &PropDef) -> bool {
    if prop.nullable || prop.ty.starts_with("Collection(") {
        return false;
    }
    match prop.ty.strip_prefix("graph.") {
        Some(name) => is_enum(name),
        None => prop.ty != "Edm.Stream",
    }
}

/// `id` and the kind's [`REQUIRED`] properties.
fn root_required(kind: &Kind) -> Vec<String> {
    let listed = REQUIRED
        .iter()
        .find(|(k, _)| *k == kind.name)
        .map(|(_, props)| *props)
        .unwrap_or_default();
    let mut required: Vec<String> = listed.iter().map(|p| p.to_string()).collect();
    required.push("id".into());
    required.sort();
    required
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn type_keyword(ty: &str, nullable: bool) -> Value {
    if nullable {
        json!([ty, "null"])
    } else {
        json!(ty)
    }
}

/// The catalog entry that forbids the property at `path`, if any.
pub fn forbidden(kind: &Kind, path: &str) -> Option<&'static Prop> {
    let kind = catalog::kind(kind.name)?;
    kind.secrets
        .iter()
        .chain(kind.volatile)
        .find(|p| p.path == path)
}

fn target_words(kind: &Kind, path: &str, target: RefTarget) -> String {
    let what = match target {
        RefTarget::Objects(kinds) => {
            let titles: Vec<&str> = kinds
                .iter()
                .filter_map(|k| catalog::kind(k))
                .map(|k| k.title)
                .collect();
            format!("object IDs of {}", titles.join(" or "))
        }
        RefTarget::AppId => "application IDs (appId)".to_string(),
        RefTarget::RoleTemplate => "directory role template IDs".to_string(),
    };
    let specials = special_values(kind, path);
    if specials.is_empty() {
        format!("{what} (GUIDs)")
    } else {
        format!("{what} (GUIDs), or {}", specials.join(", "))
    }
}

/// Generates one kind's schema.
struct Generator<'k> {
    kind: &'k Kind,
    /// Catalog paths with a rule of their own: objects on the way to them are written in
    /// place, every other object type once under `$defs`.
    rule_paths: BTreeSet<String>,
    defs: BTreeMap<String, Value>,
}

impl<'k> Generator<'k> {
    fn new(kind: &'k Kind) -> Self {
        let mut rule_paths: BTreeSet<String> = BTreeSet::new();
        let lists = [kind.volatile, kind.secrets, kind.read_only];
        rule_paths.extend(
            lists
                .iter()
                .flat_map(|l| l.iter())
                .map(|p| p.path.to_string()),
        );
        rule_paths.extend(kind.references.iter().map(|r| r.path.to_string()));
        rule_paths.extend(kind.polymorphic.iter().map(|p| p.to_string()));
        Generator {
            kind,
            rule_paths,
            defs: BTreeMap::new(),
        }
    }

    fn has_rules_below(&self, path: &str) -> bool {
        let prefix = format!("{path}.");
        self.rule_paths.iter().any(|p| p.starts_with(&prefix))
    }

    /// The schema of a value of Graph type `ty` at `path` (`None` inside `$defs`).
    fn value(&mut self, path: Option<&str>, ty: &str, nullable: bool) -> Value {
        if let Some(inner) = ty
            .strip_prefix("Collection(")
            .and_then(|t| t.strip_suffix(')'))
        {
            let items = self.value(path, inner, false);
            return json!({"type": type_keyword("array", nullable), "items": items});
        }
        let mut schema = match ty {
            "Edm.String" => json!({"type": "string"}),
            "Edm.Guid" => json!({"type": "string", "pattern": GUID_PATTERN}),
            "Edm.DateTimeOffset" => json!({"type": "string", "format": "date-time"}),
            "Edm.Date" => json!({"type": "string", "format": "date"}),
            "Edm.Duration" => json!({"type": "string", "format": "duration"}),
            "Edm.TimeOfDay" => json!({"type": "string", "pattern": TIME_OF_DAY_PATTERN}),
            "Edm.Boolean" => json!({"type": "boolean"}),
            "Edm.Int32" => json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX}),
            "Edm.Int16" => json!({"type": "integer", "minimum": i16::MIN, "maximum": i16::MAX}),
            "Edm.Byte" => json!({"type": "integer", "minimum": 0, "maximum": 255}),
            "Edm.Int64" => json!({"type": "integer"}),
            "Edm.Double" | "Edm.Single" | "Edm.Decimal" => json!({"type": "number"}),
            "Edm.Binary" => json!({"type": "string", "description": "base64"}),
            // A stream is never part of a JSON object; Graph serves it at its own URL.
            "Edm.Stream" => {
                return json!({"description": "a stream, which Graph does not return in objects"})
            }
            graph => match graph.strip_prefix("graph.") {
                Some(name) if is_enum(name) => enum_schema(name),
                Some(name) if type_entry(name).is_some() => {
                    let mut object = self.object(path, name);
                    if let Value::Object(map) = &mut object {
                        map.insert("type".into(), type_keyword("object", nullable));
                    }
                    return object;
                }
                // A type the data does not describe: anything goes.
                _ => return json!({}),
            },
        };
        if let Some(path) = path {
            self.reference(path, &mut schema);
        }
        if nullable {
            if let Value::Object(map) = &mut schema {
                if let Some(ty) = map.get("type").and_then(Value::as_str) {
                    let ty = ty.to_string();
                    map.insert("type".into(), type_keyword(&ty, true));
                }
                if let Some(Value::Array(members)) = map.get_mut("enum") {
                    members.push(Value::Null);
                }
            }
        }
        schema
    }

    /// A reference at `path` holds GUIDs or its documented keywords.
    fn reference(&self, path: &str, schema: &mut Value) {
        if !self.kind.references.iter().any(|r| r.path == path) {
            return;
        }
        let Value::Object(map) = schema else {
            return;
        };
        if map.get("type").and_then(Value::as_str) != Some("string") {
            return;
        }
        map.insert(
            "pattern".into(),
            guid_or(special_values(self.kind, path)).into(),
        );
    }

    /// The schema of an object of Graph type `name` at `path`.
    fn object(&mut self, path: Option<&str>, name: &str) -> Value {
        match path {
            Some(path) if path.is_empty() || self.kind.polymorphic.contains(&path) => {
                self.dispatch(path, name)
            }
            Some(path) if self.has_rules_below(path) => self.union(Some(path), name),
            _ => {
                if !self.defs.contains_key(name) {
                    // Inserted first: a type may contain itself.
                    self.defs.insert(name.to_string(), Value::Null);
                    let def = self.union(None, name);
                    self.defs.insert(name.to_string(), def);
                }
                json!({"$ref": format!("#/$defs/{name}")})
            }
        }
    }

    /// An object whose `@odata.type` is not kept: every property of the type and of its
    /// derived types is known, since which one it is cannot be told.
    fn union(&mut self, path: Option<&str>, name: &str) -> Value {
        let base = all_props(name);
        let required: Vec<String> = base
            .iter()
            .filter(|(_, p)| is_required(p))
            .map(|(n, _)| n.clone())
            .collect();
        let mut props = base;
        for derived in descendants(name) {
            for (prop, def) in props_between(&derived, name) {
                props.entry(prop).or_insert(def);
            }
        }
        let mut node = self.node(path, name, props, required);
        if let Some(path) = path {
            self.add_forbidden(path, &mut node);
        }
        Value::Object(node)
    }

    /// An object that keeps its `@odata.type`: the derived type's own properties apply
    /// when `@odata.type` names it.
    fn dispatch(&mut self, path: &str, name: &str) -> Value {
        let base = all_props(name);
        let required: Vec<String> = if path.is_empty() {
            root_required(self.kind)
        } else {
            base.iter()
                .filter(|(_, p)| is_required(p))
                .map(|(n, _)| n.clone())
                .collect()
        };
        let mut node = self.node(Some(path), name, base, required);
        let derived = descendants(name);
        let mut names: Vec<String> = Vec::new();
        if !is_abstract(name) {
            names.push(odata_type(name));
        }
        names.extend(derived.iter().map(|d| odata_type(d)));
        let mut type_prop = json!({
            "type": "string",
            "description": "the Graph type of this object",
            "enum": names,
        });
        let polymorphic = self.kind.polymorphic.contains(&path);
        if polymorphic {
            type_prop["description"] =
                "the Graph type of this object; a restore must send it, so it is required".into();
        }
        if let Some(Value::Object(props)) = node.get_mut("properties") {
            props.insert("@odata.type".into(), type_prop);
        }
        if polymorphic {
            let required = node
                .entry("required")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(required) = required {
                required.insert(0, "@odata.type".into());
            }
        }
        let mut variants = Vec::new();
        for d in derived.iter().filter(|d| type_entry(d).is_some()) {
            let own = props_between(d, name);
            if own.is_empty() {
                continue;
            }
            let required: Vec<String> = own
                .iter()
                .filter(|(_, p)| !path.is_empty() && is_required(p))
                .map(|(n, _)| n.clone())
                .collect();
            let then = self.node(Some(path), d, own, required);
            variants.push(json!({
                "if": {
                    "properties": {"@odata.type": {"const": odata_type(d)}},
                    "required": ["@odata.type"],
                },
                "then": then,
            }));
        }
        if !variants.is_empty() {
            node.insert("allOf".into(), Value::Array(variants));
        }
        self.add_forbidden(path, &mut node);
        Value::Object(node)
    }

    /// `title`, `properties` and `required` of an object of type `name` at `path`.
    fn node(
        &mut self,
        path: Option<&str>,
        name: &str,
        props: Props,
        required: Vec<String>,
    ) -> Map<String, Value> {
        let mut properties = Map::new();
        let mut still_required = Vec::new();
        for (prop, def) in props {
            let child = path.map(|p| join(p, &prop));
            let schema = match child.as_deref() {
                Some(child) => match forbidden(self.kind, child) {
                    Some(rule) => forbidden_schema(rule),
                    None => {
                        let mut schema = self.value(Some(child), &def.ty, def.nullable);
                        self.describe(child, &mut schema);
                        schema
                    }
                },
                None => self.value(None, &def.ty, def.nullable),
            };
            if required.contains(&prop) && !self.not_read(child.as_deref(), &prop) {
                still_required.push(prop.clone());
            }
            properties.insert(prop, schema);
        }
        let mut node = Map::new();
        node.insert("title".into(), name.into());
        node.insert("properties".into(), Value::Object(properties));
        if !still_required.is_empty() {
            node.insert("required".into(), json!(still_required));
        }
        node
    }

    /// Whether the backup leaves the property out: forbidden, or not selected.
    fn not_read(&self, child: Option<&str>, prop: &str) -> bool {
        let Some(child) = child else {
            return false;
        };
        if forbidden(self.kind, child).is_some() {
            return true;
        }
        match self.kind.select {
            Select::AllExcept(excluded) => child == prop && excluded.iter().any(|p| p.path == prop),
            Select::ServerDefault => false,
        }
    }

    /// Forbidden properties that the type data does not list (they are on the catalog
    /// because Graph returns them anyway) are forbidden all the same.
    fn add_forbidden(&self, path: &str, node: &mut Map<String, Value>) {
        let Some(Value::Object(props)) = node.get_mut("properties") else {
            return;
        };
        let kind = self.kind;
        for rule in kind.secrets.iter().chain(kind.volatile) {
            let (parent, name) = rule.path.rsplit_once('.').unwrap_or(("", rule.path));
            if parent == path && !props.contains_key(name) {
                props.insert(name.to_string(), forbidden_schema(rule));
            }
        }
    }

    /// Descriptions from the catalog: why a property is read-only, not read, or what a
    /// reference points at.
    fn describe(&self, path: &str, schema: &mut Value) {
        let mut notes = Vec::new();
        if let Some(rule) = self.kind.read_only.iter().find(|p| p.path == path) {
            notes.push(format!("read-only: {}", rule.reason));
            if let Value::Object(map) = schema {
                map.insert("readOnly".into(), true.into());
            }
        }
        if let Select::AllExcept(excluded) = self.kind.select {
            if let Some(rule) = excluded.iter().find(|p| p.path == path) {
                notes.push(format!("not read by a backup: {}", rule.reason));
            }
        }
        if let Some(reference) = self.kind.references.iter().find(|r| r.path == path) {
            notes.push(target_words(self.kind, path, reference.target));
        }
        if notes.is_empty() {
            return;
        }
        if let Value::Object(map) = schema {
            let mut text = notes.join("; ");
            if let Some(existing) = map.get("description").and_then(Value::as_str) {
                text = format!("{existing}; {text}");
            }
            map.insert("description".into(), text.into());
        }
    }
}

fn forbidden_schema(rule: &Prop) -> Value {
    json!({
        "description": format!("must not be stored: {}", rule.reason),
        "not": {},
    })
}

fn enum_schema(name: &str) -> Value {
    let members = enum_members(name);
    if FLAGS_ENUMS.contains(&name) {
        json!({"type": "string", "title": name, "pattern": flags_pattern(&members)})
    } else {
        json!({"type": "string", "title": name, "enum": members})
    }
}

fn relationships_schema(kind: &Kind) -> Value {
    let mut properties = Map::new();
    for rel in kind.relationships {
        let targets: Vec<&str> = rel
            .targets
            .iter()
            .filter_map(|k| catalog::kind(k))
            .map(|k| k.title)
            .collect();
        let (description, items) = match rel.item {
            RelationshipItem::ObjectId => (
                format!(
                    "{}: object IDs of {}, fetched from /{}",
                    rel.name,
                    targets.join(", "),
                    rel.segment
                ),
                json!({"type": "string", "pattern": GUID_PATTERN}),
            ),
            RelationshipItem::AppRoleAssignment => (
                format!(
                    "app roles of this service principal held by {}",
                    targets.join(", ")
                ),
                json!({
                    "type": "object",
                    "title": "appRoleAssignment",
                    "additionalProperties": false,
                    "required": ["appRoleId", "principalId"],
                    "properties": {
                        "appRoleId": {
                            "type": "string",
                            "pattern": GUID_PATTERN,
                            "description": "the app role's ID; 00000000-0000-0000-0000-000000000000 is the default role",
                        },
                        "principalId": {
                            "type": "string",
                            "pattern": GUID_PATTERN,
                            "description": "object ID of the user, group or service principal that holds the role",
                        },
                        "principalType": {
                            "type": "string",
                            "enum": ["User", "Group", "ServicePrincipal"],
                        },
                    },
                }),
            ),
        };
        properties.insert(
            rel.name.to_string(),
            json!({
                "type": ["array", "null"],
                "description": description,
                "items": items,
            }),
        );
    }
    json!({
        "type": "object",
        "title": "relationships",
        "description": "Related objects, stored apart from the properties so that a restore never sends them as properties.",
        "additionalProperties": false,
        "properties": properties,
    })
}

/// The JSON Schema (draft 2020-12) of a whole backup file of `kind`.
pub fn schema_for(kind: &Kind) -> Value {
    let mut generator = Generator::new(kind);
    let mut root = generator.dispatch("", kind.graph_type);
    root["type"] = "object".into();
    root["description"] =
        format!("The Graph properties of one {}, normalized.", kind.singular).into();
    let id = match kind.shape {
        Shape::Collection { .. } => json!({
            "type": "string",
            "pattern": GUID_PATTERN,
            "readOnly": true,
            "description": "the object ID, assigned by Graph; the file name ends in it",
        }),
        Shape::Singleton { id, .. } => json!({
            "const": id,
            "readOnly": true,
            "description": "fixed by Graph",
        }),
    };
    if let Some(Value::Object(props)) = root.get_mut("properties") {
        props.insert("id".into(), id);
    }
    // Directory extensions extend users, groups, applications and service principals
    // (and devices and organizations, which idgit does not back up).
    let directory_object = chain(kind.graph_type)
        .iter()
        .any(|t| t == "directoryObject");
    if directory_object && !kind.is_singleton() {
        root["patternProperties"] = json!({
            EXTENSION_PATTERN: {
                "description": "a directory extension property, defined by an application",
            }
        });
    }
    let mut properties = Map::new();
    properties.insert("properties".into(), root);
    if !kind.relationships.is_empty() {
        properties.insert("relationships".into(), relationships_schema(kind));
    }
    let file = match kind.shape {
        Shape::Collection { dir, .. } => format!("{dir}/<name>.<object-id>.yaml"),
        Shape::Singleton { file, .. } => file.to_string(),
    };
    let mut schema = json!({
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": format!("https://idgit.dev/schemas/kinds/{}", file_name(kind)),
        "title": format!("idgit backup file: {}", kind.title),
        "description": format!(
            "{file}: one {} (Graph type {}) as idgit backs it up. Generated by idgit from the Graph v1.0 metadata and idgit's catalog; do not edit.",
            kind.singular, kind.graph_type
        ),
        "type": "object",
        "required": ["properties"],
        "additionalProperties": false,
        "properties": properties,
    });
    if !generator.defs.is_empty() {
        schema["$defs"] = Value::Object(generator.defs.into_iter().collect());
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed `schemas/kinds/*.schema.json` are the generator's output. Run
    /// with `IDGIT_UPDATE_SCHEMAS=1` to rewrite them after changing the generator, the
    /// catalog or the type data.
    #[test]
    fn committed_schemas_are_fresh() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/kinds");
        let update = std::env::var("IDGIT_UPDATE_SCHEMAS").as_deref() == Ok("1");
        let mut stale = Vec::new();
        for kind in catalog::KINDS {
            let path = dir.join(file_name(kind));
            let expected = schema_text(kind);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, expected).unwrap();
                continue;
            }
            if std::fs::read_to_string(&path).ok().as_deref() != Some(expected) {
                stale.push(path.display().to_string());
            }
        }
        assert!(
            stale.is_empty(),
            "stale schemas, regenerate with `IDGIT_UPDATE_SCHEMAS=1 cargo test --lib schema`: {stale:?}"
        );
        let files = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(
            files,
            catalog::KINDS.len(),
            "a schema in {dir:?} has no kind"
        );
    }

    #[test]
    fn schemas_compile_and_are_deterministic() {
        for kind in catalog::KINDS {
            let schema = schema_for(kind);
            assert_eq!(schema, schema_for(kind), "{}", kind.name);
            jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", kind.name));
            let text = schema_text(kind);
            assert!(text.ends_with("}\n"));
            assert!(!text.contains("null,\n  \"properties\""));
        }
    }

    #[test]
    fn flags_enums_and_supplement_match_the_type_data() {
        for name in FLAGS_ENUMS {
            assert!(is_enum(name), "{name} is not an enum of the type data");
        }
        for name in supplement().keys() {
            assert!(
                catalog::graph_types().get(name).is_none(),
                "{name} is in graph_types.json now: remove it from the supplement"
            );
        }
        for (kind, props) in REQUIRED {
            let kind = catalog::kind(kind).unwrap();
            let known = all_props(kind.graph_type);
            for prop in *props {
                assert!(known.contains_key(*prop), "{}: {prop}", kind.name);
            }
        }
        for (owner, _, ty) in EXPANDED_NAVIGATION {
            assert!(type_entry(owner).is_some(), "{owner}");
            let inner = ty
                .trim_start_matches("Collection(graph.")
                .trim_end_matches(')');
            assert!(type_entry(inner).is_some(), "{inner}");
        }
    }

    #[test]
    fn special_values_are_on_catalog_references() {
        for (kind, path, _) in SPECIAL_VALUES {
            let kind = catalog::kind(kind).unwrap();
            assert!(
                kind.references.iter().any(|r| r.path == *path),
                "{}: {path} is not a reference",
                kind.name
            );
        }
    }

    #[test]
    fn patterns_say_what_they_want() {
        assert_eq!(pattern_message(GUID_PATTERN).unwrap(), "not a GUID");
        assert_eq!(
            pattern_message(&guid_or(&["All", "all_users"])).unwrap(),
            "not a GUID, nor one of: All, all_users"
        );
        assert_eq!(
            pattern_message(&flags_pattern(&["a", "b"])).unwrap(),
            "must be one or more of: a, b, joined by commas"
        );
        assert_eq!(pattern_message("^x$"), None);
        let guid = regex_like(&guid_or(&["All"]));
        assert!(guid("All") && guid("0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10") && !guid("Al"));
    }

    fn regex_like(pattern: &str) -> impl Fn(&str) -> bool {
        let validator =
            jsonschema::validator_for(&json!({"type": "string", "pattern": pattern})).unwrap();
        move |s| validator.is_valid(&json!(s))
    }

    fn at<'v>(schema: &'v Value, pointer: &str) -> &'v Value {
        schema
            .pointer(pointer)
            .unwrap_or_else(|| panic!("no {pointer}"))
    }

    #[test]
    fn catalog_rules_are_in_the_schema() {
        let users = schema_for(catalog::kind("users").unwrap());
        let password = at(&users, "/properties/properties/properties/passwordProfile");
        assert_eq!(password["not"], json!({}));
        assert_eq!(
            password["description"],
            "must not be stored: holds a password when present"
        );
        let id = at(&users, "/properties/properties/properties/id");
        assert_eq!(id["pattern"], GUID_PATTERN);
        let created = at(&users, "/properties/properties/properties/createdDateTime");
        assert_eq!(created["format"], "date-time");
        assert!(created["description"]
            .as_str()
            .unwrap()
            .contains("read-only: set by Graph on create"));

        let ca = schema_for(catalog::kind("conditional-access-policies").unwrap());
        let users_node = "/properties/properties/properties/conditions/properties/users/properties";
        let exclude = at(&ca, &format!("{users_node}/excludeGroups/items"));
        assert_eq!(exclude["pattern"], GUID_PATTERN);
        let include = at(&ca, &format!("{users_node}/includeUsers/items"));
        assert_eq!(
            pattern_message(include["pattern"].as_str().unwrap()).unwrap(),
            "not a GUID, nor one of: All, None, GuestsOrExternalUsers"
        );
        let state = at(&ca, "/properties/properties/properties/state");
        assert_eq!(
            state["enum"],
            json!(["enabled", "disabled", "enabledForReportingButNotEnforced"])
        );
        let required = at(&ca, "/properties/properties/required");
        for name in ["displayName", "id", "state"] {
            assert!(
                required.as_array().unwrap().contains(&json!(name)),
                "{name}"
            );
        }

        let apps = schema_for(catalog::kind("applications").unwrap());
        let credential = "/properties/properties/properties/passwordCredentials/items/properties";
        assert_eq!(
            at(&apps, &format!("{credential}/secretText"))["not"],
            json!({})
        );
    }

    #[test]
    fn polymorphic_paths_dispatch_on_the_odata_type() {
        let locations = schema_for(catalog::kind("named-locations").unwrap());
        let root = at(&locations, "/properties/properties");
        assert_eq!(root["required"][0], "@odata.type");
        let variants = root["allOf"].as_array().unwrap();
        let ip = variants
            .iter()
            .find(|v| {
                v["if"]["properties"]["@odata.type"]["const"] == "#microsoft.graph.ipNamedLocation"
            })
            .unwrap();
        assert!(ip["then"]["properties"]["ipRanges"].is_object());
        let range = &ip["then"]["properties"]["ipRanges"]["items"];
        assert_eq!(range["required"], json!(["@odata.type"]));
        assert_eq!(
            range["allOf"][0]["then"]["required"],
            json!(["cidrAddress"])
        );
        // Users are not polymorphic: the type is optional and only derived types appear.
        let users = schema_for(catalog::kind("users").unwrap());
        let root = at(&users, "/properties/properties");
        assert!(!root["required"]
            .as_array()
            .unwrap()
            .contains(&json!("@odata.type")));
        assert!(root["patternProperties"][EXTENSION_PATTERN].is_object());
    }

    #[test]
    fn relationships_follow_the_catalog() {
        let groups = schema_for(catalog::kind("groups").unwrap());
        let members = at(&groups, "/properties/relationships/properties/members");
        assert_eq!(members["items"]["pattern"], GUID_PATTERN);
        let sps = schema_for(catalog::kind("service-principals").unwrap());
        let item = at(
            &sps,
            "/properties/relationships/properties/appRoleAssignedTo/items",
        );
        assert_eq!(item["required"], json!(["appRoleId", "principalId"]));
        let users = schema_for(catalog::kind("users").unwrap());
        assert!(users["properties"].get("relationships").is_none());
    }
}
