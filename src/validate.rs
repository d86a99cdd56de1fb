//! Checking backup files against their kind's schema. Pure: text in, findings out.
//!
//! `idgit validate` runs this over a whole repository; the planner runs it over the
//! files it is about to send, so that a typo is reported against the line that has it
//! rather than as a 400 from Graph halfway through an apply.
//!
//! A finding is an error when Graph would refuse the value or idgit could not read the
//! file as intended (bad YAML, wrong type, a value outside an enum, a reference that is
//! not a GUID, a secret written into the file, a file name without an object ID). A
//! property that the schema does not know is only a warning: Graph gains properties
//! faster than any schema, and a restore sends such a property as it is.
//!
//! Errors come from the kind's JSON Schema (`schema`), through `jsonschema`, with its
//! messages rewritten for people who edit YAML. Unknown properties are found by walking
//! the value alongside the same schema: its objects list every property they know.

mod locate;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::JsonType;
use serde_json::Value;

pub use locate::{line_of, Segment};

use crate::catalog::{self, Kind, Shape};
use crate::normalize::PropertyFilter;
use crate::{layout, schema};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be restored as it is.
    Error,
    /// Worth a look; the file can be restored.
    Warning,
}

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The file's path in the repository, `/`-separated.
    pub path: String,
    /// 1-based line of the value (or its key) that the finding is about.
    pub line: usize,
    /// Where in the file: `conditions.users.excludeGroups[0]` for a Graph property,
    /// `relationships.members[2]` for a relationship; empty for the whole file.
    pub pointer: String,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `path:line: pointer: message`, and `path:line: warning: pointer: message`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path, self.line)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if !self.pointer.is_empty() {
            write!(f, "{}: ", self.pointer)?;
        }
        f.write_str(&self.message.replace(['\r', '\n'], " "))
    }
}

/// Validates one backup file of `kind`. `path` is its repository path, used in the
/// findings and to check the object ID in the file name.
pub fn validate_file(kind: &Kind, path: &str, text: &str) -> Vec<Finding> {
    validate_file_with(kind, path, text, &PropertyFilter::default())
}

/// Like [`validate_file`], for a repository whose `idgit.yaml` keeps some properties
/// out of the backup: a property the filter drops is not missing.
pub fn validate_file_with(
    kind: &Kind,
    path: &str,
    text: &str,
    filter: &PropertyFilter,
) -> Vec<Finding> {
    let finding = |line: usize, at: &[Segment], severity: Severity, message: String| Finding {
        path: path.to_string(),
        line,
        pointer: display_pointer(at),
        severity,
        message,
    };
    let content = match crate::yaml::from_yaml(text) {
        Ok(content) => content,
        Err(error) => {
            let message = format!("not valid YAML: {}", error.message);
            return vec![finding(error.line, &[], Severity::Error, message)];
        }
    };
    let mut issues = check(kind, path, &content, filter);
    issues.sort_by(|a, b| (&a.severity, &a.message).cmp(&(&b.severity, &b.message)));
    let mut findings: Vec<Finding> = issues
        .into_iter()
        .map(|issue| {
            let line = line_of(text, &issue.at);
            finding(line, &issue.at, issue.severity, issue.message)
        })
        .collect();
    findings.sort_by(|a, b| {
        (a.line, &a.pointer, a.severity, &a.message)
            .cmp(&(b.line, &b.pointer, b.severity, &b.message))
    });
    findings.dedup();
    findings
}

/// Like [`validate_file_with`], for bytes read from disk or git.
pub fn validate_bytes(
    kind: &Kind,
    path: &str,
    bytes: &[u8],
    filter: &PropertyFilter,
) -> Vec<Finding> {
    match std::str::from_utf8(bytes) {
        Ok(text) => validate_file_with(kind, path, text, filter),
        Err(error) => {
            let line = bytes[..error.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            vec![Finding {
                path: path.to_string(),
                line,
                pointer: String::new(),
                severity: Severity::Error,
                message: "not UTF-8 text".into(),
            }]
        }
    }
}

/// A problem at a place in the content, before it has a line.
struct Issue {
    at: Vec<Segment>,
    severity: Severity,
    message: String,
}

impl Issue {
    fn error(at: Vec<Segment>, message: impl Into<String>) -> Issue {
        Issue {
            at,
            severity: Severity::Error,
            message: message.into(),
        }
    }
}

fn check(kind: &Kind, path: &str, content: &Value, filter: &PropertyFilter) -> Vec<Issue> {
    let mut issues = Vec::new();
    let (schema, validator) = compiled(kind);
    for error in validator.iter_errors(content) {
        let at: Vec<Segment> = error
            .instance_path()
            .iter()
            .map(|segment| match segment {
                LocationSegment::Property(key) => Segment::Key(key.to_string()),
                LocationSegment::Index(index) => Segment::Index(index),
            })
            .collect();
        issues.extend(schema_issue(kind, at, &error, filter));
        if issues.len() > 1000 {
            break;
        }
    }
    let mut at = Vec::new();
    unknown_properties(schema, &[schema], content, &mut at, &mut issues);
    issues.extend(file_name_issues(kind, path, content));
    issues
}

/// The kind's schema and its compiled validator, built once.
fn compiled(kind: &Kind) -> (&'static Value, &'static jsonschema::Validator) {
    type Compiled = BTreeMap<&'static str, (Value, jsonschema::Validator)>;
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    let all = COMPILED.get_or_init(|| {
        catalog::KINDS
            .iter()
            .map(|k| {
                let schema = schema::schema_for(k);
                let validator = jsonschema::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .expect("generated schemas compile; a unit test compiles them");
                (k.name, (schema, validator))
            })
            .collect()
    });
    let (schema, validator) = &all[kind.name];
    (schema, validator)
}

/// The error `jsonschema` found, in words for someone editing the YAML file.
fn schema_issue(
    kind: &Kind,
    at: Vec<Segment>,
    error: &jsonschema::ValidationError<'_>,
    filter: &PropertyFilter,
) -> Vec<Issue> {
    let instance = error.instance();
    let message = match error.kind() {
        ValidationErrorKind::Type { .. } if at.is_empty() => {
            "a backup file must be a mapping with properties: at the top".to_string()
        }
        ValidationErrorKind::Type { kind: expected } => {
            let expected: Vec<JsonType> = match expected {
                TypeKind::Single(t) => vec![*t],
                TypeKind::Multiple(set) => set.iter().collect(),
            };
            let wanted: Vec<&str> = expected
                .iter()
                .filter(|t| expected.len() == 1 || **t != JsonType::Null)
                .map(|t| type_words(*t))
                .collect();
            format!(
                "expected {}, found {}",
                wanted.join(" or "),
                value_words(instance)
            )
        }
        ValidationErrorKind::Enum { options } => {
            let members: Vec<String> = options
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| !v.is_null() && *v != "unknownFutureValue")
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect();
            format!("must be one of: {}", members.join(", "))
        }
        ValidationErrorKind::Pattern { pattern } => {
            schema::pattern_message(pattern).unwrap_or_else(|| format!("does not match {pattern}"))
        }
        ValidationErrorKind::Format { format } => match format.as_str() {
            "date-time" => "not a date and time (like 2026-01-31T09:30:00Z)".into(),
            "date" => "not a date (like 2026-01-31)".into(),
            "duration" => "not a duration (like PT1H30M)".into(),
            other => format!("not a valid {other}"),
        },
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            if at.is_empty() {
                return vec![Issue::error(
                    at,
                    format!("missing {name}: (the object's Graph properties)"),
                )];
            }
            let top = matches!(at.as_slice(), [Segment::Key(k)] if k == "properties");
            if top && !keeps(filter, name) {
                return Vec::new();
            }
            format!("missing required property {name}")
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let message = match at.as_slice() {
                [] if kind.relationships.is_empty() => {
                    "not part of a backup file, which holds properties: only".to_string()
                }
                [] => {
                    "not part of a backup file, which holds properties: and relationships:".into()
                }
                [Segment::Key(k)] if k == "relationships" => {
                    let names: Vec<&str> = kind.relationships.iter().map(|r| r.name).collect();
                    format!("not a relationship of {}: {}", kind.title, names.join(", "))
                }
                _ => "not part of an app role assignment: appRoleId, principalId, principalType"
                    .into(),
            };
            return unexpected
                .iter()
                .map(|key| {
                    let mut at = at.clone();
                    at.push(Segment::Key(key.clone()));
                    Issue::error(at, message.clone())
                })
                .collect();
        }
        ValidationErrorKind::Not { .. } | ValidationErrorKind::FalseSchema => {
            let path = catalog_path(&at);
            let name = path.rsplit('.').next().unwrap_or_default().to_string();
            match schema::forbidden(kind, &path) {
                Some(rule) => format!("{name} must not be stored: {}", rule.reason),
                None => format!("{name} must not be stored"),
            }
        }
        ValidationErrorKind::Constant { expected_value } => match expected_value.as_str() {
            Some(text) => format!("must be {text}"),
            None => format!("must be {expected_value}"),
        },
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        // Keywords the generated schemas do not use.
        _ => error.to_string(),
    };
    vec![Issue::error(at, message)]
}

fn type_words(t: JsonType) -> &'static str {
    match t {
        JsonType::Array => "a list",
        JsonType::Boolean => "a boolean",
        JsonType::Integer => "an integer",
        JsonType::Null => "null",
        JsonType::Number => "a number",
        JsonType::Object => "a mapping",
        JsonType::String => "a string",
    }
}

fn value_words(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Whether the repository's property filter keeps a top-level property (as the
/// normalizer's filter decides).
fn keeps(filter: &PropertyFilter, name: &str) -> bool {
    if name == "id" || name == "@odata.type" {
        return true;
    }
    let allowed = filter
        .allow
        .as_ref()
        .is_none_or(|allow| allow.iter().any(|a| a == name));
    allowed && !filter.deny.iter().any(|d| d == name)
}

/// The catalog's dotted path of a place under `properties:`; arrays are stepped through.
fn catalog_path(at: &[Segment]) -> String {
    let keys: Vec<&str> = at
        .iter()
        .skip(1)
        .filter_map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    keys.join(".")
}

/// `conditions.users.excludeGroups[0]` under `properties:`; `relationships.members[2]`.
fn display_pointer(at: &[Segment]) -> String {
    let at = match at.first() {
        Some(Segment::Key(k)) if k == "properties" => &at[1..],
        _ => at,
    };
    let mut text = String::new();
    for segment in at {
        match segment {
            Segment::Key(k) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(k);
            }
            Segment::Index(i) => text.push_str(&format!("[{i}]")),
        }
    }
    text
}

/// The schema objects that apply to a value: the node, what its `$ref` names, and for
/// an object the variant its `@odata.type` selects (all variants, without one).
fn applicable<'s>(root: &'s Value, nodes: &[&'s Value], value: &Value) -> Vec<&'s Value> {
    let mut out: Vec<&'s Value> = Vec::new();
    let mut stack: Vec<&'s Value> = nodes.to_vec();
    while let Some(node) = stack.pop() {
        if out.iter().any(|n| std::ptr::eq(*n, node)) {
            continue;
        }
        out.push(node);
        if let Some(target) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer))
        {
            stack.push(target);
        }
        let odata_type = value.get("@odata.type").and_then(Value::as_str);
        for variant in node
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(then) = variant.get("then") else {
                continue;
            };
            let selects = variant
                .pointer("/if/properties/@odata.type/const")
                .and_then(Value::as_str);
            if odata_type.is_none() || selects == odata_type {
                stack.push(then);
            }
        }
    }
    out
}

/// Warns about every property that no applicable schema object lists.
fn unknown_properties(
    root: &Value,
    nodes: &[&Value],
    value: &Value,
    at: &mut Vec<Segment>,
    issues: &mut Vec<Issue>,
) {
    let nodes = applicable(root, nodes, value);
    match value {
        Value::Object(map) => {
            let typed: Vec<&Map> = nodes
                .iter()
                .filter_map(|n| n.get("properties").and_then(Value::as_object))
                .collect();
            if typed.is_empty() {
                // Nothing is known about this object's properties: anything goes.
                return;
            }
            let closed = nodes
                .iter()
                .any(|n| n.get("additionalProperties") == Some(&Value::Bool(false)));
            let title = nodes
                .iter()
                .find_map(|n| n.get("title").and_then(Value::as_str))
                .unwrap_or("this object");
            let extensions = nodes.iter().any(|n| {
                n.get("patternProperties")
                    .is_some_and(|p| p.get(schema::EXTENSION_PATTERN).is_some())
            });
            for (key, child) in map {
                at.push(Segment::Key(key.clone()));
                let schemas: Vec<&Value> =
                    typed.iter().filter_map(|props| props.get(key)).collect();
                if !schemas.is_empty() {
                    unknown_properties(root, &schemas, child, at, issues);
                } else if closed || (extensions && is_extension(key)) {
                    // A closed object's strays are errors of the schema already.
                } else if key.contains('@') {
                    issues.push(Issue {
                        at: at.clone(),
                        severity: Severity::Warning,
                        message:
                            "an OData annotation, which backup files do not keep; idgit ignores it"
                                .into(),
                    });
                } else {
                    let known: Vec<&str> = typed
                        .iter()
                        .flat_map(|props| props.keys().map(String::as_str))
                        .collect();
                    let hint = suggestion(key, &known)
                        .map(|s| format!(" (did you mean {s}?)"))
                        .unwrap_or_default();
                    issues.push(Issue {
                        at: at.clone(),
                        severity: Severity::Warning,
                        message: format!(
                            "not a known property of {title}{hint}; it will be sent to Graph as is"
                        ),
                    });
                }
                at.pop();
            }
        }
        Value::Array(items) => {
            let item_schemas: Vec<&Value> = nodes.iter().filter_map(|n| n.get("items")).collect();
            if item_schemas.is_empty() {
                return;
            }
            for (index, item) in items.iter().enumerate() {
                at.push(Segment::Index(index));
                unknown_properties(root, &item_schemas, item, at, issues);
                at.pop();
            }
        }
        _ => {}
    }
}

type Map = serde_json::Map<String, Value>;

/// `extension_<appId without dashes>_<name>`.
fn is_extension(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("extension_") else {
        return false;
    };
    let (app, name) = rest.split_at(rest.len().min(32));
    app.len() == 32
        && app.bytes().all(|b| b.is_ascii_hexdigit())
        && name.len() > 1
        && name.starts_with('_')
}

/// The known name closest to a misspelt one, if it is close.
fn suggestion<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let key_lower = key.to_ascii_lowercase();
    known
        .iter()
        .filter(|k| !k.contains('@'))
        .map(|k| (edit_distance(&key_lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.min(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(current)
            };
            previous = current;
        }
    }
    row[b.len()]
}

pub fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A collection object's file is `<slug>.<object-id>.yaml`, and the ID in its name is
/// the ID in its content: idgit matches objects by the name.
fn file_name_issues(kind: &Kind, path: &str, content: &Value) -> Vec<Issue> {
    let Shape::Collection { .. } = kind.shape else {
        return Vec::new();
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    let id = match layout::id_from_file_name(name) {
        Some(id) => id,
        None => {
            let message = if name.ends_with(".yaml") {
                "the file name is not <name>.<object-id>.yaml, so idgit does not read this file"
            } else {
                "idgit reads only files named <name>.<object-id>.yaml, so it does not read this file"
            };
            return vec![Issue::error(Vec::new(), message)];
        }
    };
    if !is_guid(id) {
        return vec![Issue::error(
            Vec::new(),
            format!("the object ID in the file name, {id}, is not a GUID"),
        )];
    }
    match content.pointer("/properties/id").and_then(Value::as_str) {
        Some(inner) if !inner.eq_ignore_ascii_case(id) => vec![Issue::error(
            vec![Segment::Key("properties".into()), Segment::Key("id".into())],
            format!("{inner} is not the object ID in the file name, {id}"),
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA_ID: &str = "6b5e999b-0ba8-4186-a106-e0296c1c4358";

    fn ca() -> &'static Kind {
        catalog::kind("conditional-access-policies").unwrap()
    }

    fn ca_path() -> String {
        format!("conditional-access-policies/require-mfa.{CA_ID}.yaml")
    }

    fn policy(extra_users: &str) -> String {
        format!(
            "\
# yaml-language-server: $schema=../schemas/conditional-access-policies.schema.json
properties:
  conditions:
    applications:
      includeApplications:
      - All
    users:
{extra_users}      includeUsers:
      - All
  displayName: Require MFA
  grantControls:
    builtInControls:
    - mfa
    operator: OR
  id: {CA_ID}
  state: enabled
"
        )
    }

    fn lines(findings: &[Finding]) -> Vec<String> {
        findings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_valid_policy_has_no_findings() {
        let findings = validate_file(ca(), &ca_path(), &policy(""));
        assert_eq!(lines(&findings), Vec::<String>::new());
    }

    #[test]
    fn a_group_that_is_not_a_guid_is_reported_on_its_line() {
        let text = policy("      excludeGroups:\n      - 3b8c1a2e-not-a-guid\n");
        assert_eq!(
            lines(&validate_file(ca(), &ca_path(), &text)),
            vec![format!(
                "{}:9: conditions.users.excludeGroups[0]: not a GUID",
                ca_path()
            )]
        );
        // Keywords are references too where Graph documents them, and only there.
        let text = policy("      excludeGroups:\n      - All\n      excludeUsers:\n      - GuestsOrExternalUsers\n");
        assert_eq!(
            lines(&validate_file(ca(), &ca_path(), &text)),
            vec![format!(
                "{}:9: conditions.users.excludeGroups[0]: not a GUID",
                ca_path()
            )]
        );
    }

    #[test]
    fn enums_types_and_required_properties() {
        let text = policy("").replace("state: enabled", "state: on");
        assert_eq!(
            lines(&validate_file(ca(), &ca_path(), &text)),
            vec![format!(
                "{}:16: state: must be one of: enabled, disabled, enabledForReportingButNotEnforced",
                ca_path()
            )]
        );
        let text = policy("").replace("  displayName: Require MFA\n", "");
        assert_eq!(
            lines(&validate_file(ca(), &ca_path(), &text)),
            vec![format!(
                "{}:2: missing required property displayName",
                ca_path()
            )]
        );
        let users = catalog::kind("users").unwrap();
        let path = "users/adele.0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10.yaml";
        let text = "properties:\n  accountEnabled: \"true\"\n  displayName: Adele\n  id: 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10\n  userPrincipalName: adele@contoso.com\n";
        assert_eq!(
            lines(&validate_file(users, path, text)),
            vec![format!(
                "{path}:2: accountEnabled: expected a boolean, found a string"
            )]
        );
        let text = "properties:\n  createdDateTime: yesterday\n  displayName: Adele\n  employeeOrgData: [1]\n  id: 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10\n  userPrincipalName: adele@contoso.com\n";
        assert_eq!(
            lines(&validate_file(users, path, text)),
            vec![
                format!(
                    "{path}:2: createdDateTime: not a date and time (like 2026-01-31T09:30:00Z)"
                ),
                format!("{path}:4: employeeOrgData: expected a mapping, found a list"),
            ]
        );
    }

    #[test]
    fn secrets_and_volatile_values_must_not_be_stored() {
        let users = catalog::kind("users").unwrap();
        let path = "users/adele.0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10.yaml";
        let text = "properties:\n  id: 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10\n  passwordProfile:\n    password: hunter2\n  signInActivity:\n    lastSignInDateTime: \"2026-01-01T00:00:00Z\"\n  displayName: Adele\n  userPrincipalName: adele@contoso.com\n";
        assert_eq!(
            lines(&validate_file(users, path, text)),
            vec![
                format!("{path}:3: passwordProfile: passwordProfile must not be stored: holds a password when present"),
                format!("{path}:5: signInActivity: signInActivity must not be stored: changes at every sign-in"),
            ]
        );
        let apps = catalog::kind("applications").unwrap();
        let path = "applications/app.0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10.yaml";
        let text = "properties:\n  displayName: App\n  id: 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10\n  passwordCredentials:\n  - keyId: 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f11\n    secretText: abc\n";
        let findings = lines(&validate_file(apps, path, text));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(
            findings[0].starts_with(&format!(
                "{path}:6: passwordCredentials[0].secretText: secretText must not be stored: the client secret itself"
            )),
            "{findings:?}"
        );
    }

    #[test]
    fn yaml_errors_keep_their_line() {
        let text = policy("").replace("  state: enabled\n", "  state: [enabled\n");
        let findings = validate_file(ca(), &ca_path(), &text);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].line, 17, "{}", findings[0]);
        assert!(
            findings[0].message.starts_with("not valid YAML: "),
            "{}",
            findings[0]
        );
        let findings = validate_file(ca(), &ca_path(), "properties:\n  a: 1\n b: 2\n");
        assert_eq!(findings[0].line, 3, "{}", findings[0]);
        let findings = validate_bytes(
            ca(),
            &ca_path(),
            b"properties:\n  a: \xff\n",
            &PropertyFilter::default(),
        );
        assert_eq!(
            findings[0].to_string(),
            format!("{}:2: not UTF-8 text", ca_path())
        );
    }

    #[test]
    fn unknown_properties_are_warnings_with_a_suggestion() {
        let text = policy("      excludeGrups:\n      - 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10\n");
        let findings = validate_file(ca(), &ca_path(), &text);
        assert_eq!(
            lines(&findings),
            vec![format!(
                "{}:8: warning: conditions.users.excludeGrups: not a known property of conditionalAccessUsers (did you mean excludeGroups?); it will be sent to Graph as is",
                ca_path()
            )]
        );
        assert!(!findings[0].is_error());
        // Directory extension properties are expected on directory objects.
        let users = catalog::kind("users").unwrap();
        let path = "users/adele.0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10.yaml";
        let text = "properties:\n  extension_0123456789abcdef0123456789abcdef_costCenter: 42\n  id: 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10\n  x@odata.bind: y\n  displayName: Adele\n  userPrincipalName: adele@contoso.com\n";
        assert_eq!(
            lines(&validate_file(users, path, text)),
            vec![format!(
                "{path}:4: warning: x@odata.bind: an OData annotation, which backup files do not keep; idgit ignores it"
            )]
        );
    }

    #[test]
    fn polymorphic_objects_are_checked_as_their_odata_type() {
        let kind = catalog::kind("named-locations").unwrap();
        let path = "named-locations/hq.0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10.yaml";
        let text = "\
properties:
  \"@odata.type\": \"#microsoft.graph.ipNamedLocation\"
  displayName: HQ
  id: 0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10
  ipRanges:
  - \"@odata.type\": \"#microsoft.graph.iPv4CidrRange\"
    cidrAddress: 198.51.100.0/24
  - cidrAddress: 2001:db8::/32
  isTrusted: maybe
  countriesAndRegions:
  - CA
";
        assert_eq!(
            lines(&validate_file(kind, path, text)),
            vec![
                format!("{path}:8: ipRanges[1]: missing required property @odata.type"),
                format!("{path}:9: isTrusted: expected a boolean, found a string"),
                format!("{path}:10: warning: countriesAndRegions: not a known property of namedLocation; it will be sent to Graph as is"),
            ]
        );
    }

    #[test]
    fn file_names_carry_the_object_id() {
        let text = policy("");
        let findings = validate_file(ca(), "conditional-access-policies/require-mfa.yaml", &text);
        assert_eq!(
            lines(&findings),
            vec!["conditional-access-policies/require-mfa.yaml:2: the file name is not <name>.<object-id>.yaml, so idgit does not read this file"]
        );
        let other = "0b5a4c61-3e1f-4f6b-9c1e-6a2b8d7e9f10";
        let path = format!("conditional-access-policies/require-mfa.{other}.yaml");
        assert_eq!(
            lines(&validate_file(ca(), &path, &text)),
            vec![format!(
                "{path}:15: id: {CA_ID} is not the object ID in the file name, {other}"
            )]
        );
        let path = "conditional-access-policies/require-mfa.not-a-guid.yaml";
        assert_eq!(
            lines(&validate_file(ca(), path, &text)),
            vec![format!(
                "{path}:2: the object ID in the file name, not-a-guid, is not a GUID"
            ),]
        );
    }

    #[test]
    fn a_filtered_property_is_not_missing() {
        let text = policy("").replace("  displayName: Require MFA\n", "");
        let filter = PropertyFilter {
            allow: None,
            deny: vec!["displayName".into()],
        };
        assert!(validate_file_with(ca(), &ca_path(), &text, &filter).is_empty());
    }

    #[test]
    fn relationships_and_the_top_level() {
        let groups = catalog::kind("groups").unwrap();
        let path = "groups/finance.0eeb44cf-3246-4e31-b19e-5aa2f5b08108.yaml";
        let text = "\
properties:
  displayName: Finance
  id: 0eeb44cf-3246-4e31-b19e-5aa2f5b08108
  mailEnabled: false
  securityEnabled: true
relationships:
  members:
  - pradeep
  owners: []
  managers: []
extra: 1
";
        assert_eq!(
            lines(&validate_file(groups, path, text)),
            vec![
                format!("{path}:8: relationships.members[0]: not a GUID"),
                format!("{path}:10: relationships.managers: not a relationship of groups: members, owners"),
                format!("{path}:11: extra: not part of a backup file, which holds properties: and relationships:"),
            ]
        );
        let findings = validate_file(groups, path, "- a\n");
        assert_eq!(
            lines(&findings),
            vec![format!(
                "{path}:1: a backup file must be a mapping with properties: at the top"
            )]
        );
    }

    #[test]
    fn suggestions_are_close_names_only() {
        assert_eq!(
            suggestion("excludeGrups", &["excludeGroups", "includeGroups"]),
            Some("excludeGroups")
        );
        assert_eq!(
            suggestion("DisplayName", &["displayName"]),
            Some("displayName")
        );
        assert_eq!(suggestion("colour", &["id", "state"]), None);
        assert!(is_extension("extension_0123456789abcdef0123456789abcdef_x"));
        assert!(!is_extension("extension_0123_x"));
    }
}
