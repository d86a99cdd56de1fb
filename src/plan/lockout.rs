//! The lockout guard: a conditional access policy that would lock every administrator
//! out of the tenant is refused before it is applied. Pure.
//!
//! Microsoft's guidance is to exclude emergency ("break-glass") accounts from every
//! policy. A restore that applies a policy which blocks, or demands controls from, all
//! users and excludes nobody who can still sign in turns a recovery into an outage.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// What the guard knows about the directory.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Object IDs of the emergency accounts named in `idgit.yaml`.
    pub break_glass: Vec<String>,
    /// Users known to be disabled; excluding only them excludes nobody.
    pub disabled_users: BTreeSet<String>,
    /// Members of groups, as far as known, to see whether a break-glass account is
    /// excluded through a group.
    pub group_members: BTreeMap<String, BTreeSet<String>>,
}

/// Why applying this policy state could lock everyone out, if it could.
pub fn check(policy: &Value, directory: &Directory) -> Option<String> {
    let get = |path: &[&str]| {
        path.iter()
            .try_fold(policy, |v, key| v.get(*key))
            .unwrap_or(&Value::Null)
    };
    let strings = |path: &[&str]| -> Vec<String> {
        get(path)
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default()
    };
    if get(&["state"]).as_str() != Some("enabled") {
        return None;
    }
    if !strings(&["conditions", "users", "includeUsers"]).contains(&"all".to_string()) {
        return None;
    }
    let grant = get(&["grantControls"]);
    let demands_controls = [
        "builtInControls",
        "customAuthenticationFactors",
        "termsOfUse",
    ]
    .iter()
    .any(|key| {
        grant
            .get(*key)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    }) || grant
        .get("authenticationStrength")
        .is_some_and(|v| !v.is_null());
    if !demands_controls {
        return None;
    }
    let blocks = strings(&["grantControls", "builtInControls"]).contains(&"block".to_string());
    let what = if blocks {
        "blocks all users"
    } else {
        "requires controls from all users"
    };
    let excluded_users = strings(&["conditions", "users", "excludeUsers"]);
    let excluded_groups = strings(&["conditions", "users", "excludeGroups"]);
    if !directory.break_glass.is_empty() {
        let missing: Vec<&String> = directory
            .break_glass
            .iter()
            .filter(|account| {
                let account = account.to_ascii_lowercase();
                !excluded_users.contains(&account)
                    && !excluded_groups.iter().any(|group| {
                        directory
                            .group_members
                            .get(group)
                            .is_some_and(|members| members.contains(&account))
                    })
            })
            .collect();
        if missing.is_empty() {
            return None;
        }
        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Some(format!(
            "it {what} and does not exclude the break-glass account(s) {}",
            list.join(", ")
        ));
    }
    let enabled_exclusions = excluded_users
        .iter()
        .filter(|id| !directory.disabled_users.contains(*id))
        .count()
        + excluded_groups.len();
    (enabled_exclusions == 0).then(|| format!("it {what} and excludes no enabled account or group"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(exclude_users: Value, exclude_groups: Value, state: &str) -> Value {
        json!({
            "state": state,
            "conditions": {"users": {"includeUsers": ["All"], "excludeUsers": exclude_users, "excludeGroups": exclude_groups}},
            "grantControls": {"operator": "OR", "builtInControls": ["block"]}
        })
    }

    #[test]
    fn blocking_everyone_without_exclusions_is_a_lockout() {
        let found = check(
            &policy(json!([]), json!([]), "enabled"),
            &Directory::default(),
        );
        assert_eq!(
            found.as_deref(),
            Some("it blocks all users and excludes no enabled account or group")
        );
    }

    #[test]
    fn report_only_and_excluded_accounts_are_safe() {
        let dir = Directory::default();
        assert_eq!(
            check(
                &policy(json!([]), json!([]), "enabledForReportingButNotEnforced"),
                &dir
            ),
            None
        );
        assert_eq!(
            check(&policy(json!(["u1"]), json!([]), "enabled"), &dir),
            None
        );
        assert_eq!(
            check(&policy(json!([]), json!(["g1"]), "enabled"), &dir),
            None
        );
    }

    #[test]
    fn excluding_only_disabled_accounts_excludes_nobody() {
        let dir = Directory {
            disabled_users: ["u1".to_string()].into(),
            ..Directory::default()
        };
        assert!(check(&policy(json!(["U1"]), json!([]), "enabled"), &dir).is_some());
    }

    #[test]
    fn break_glass_accounts_must_be_excluded_directly_or_by_group() {
        let mut dir = Directory {
            break_glass: vec!["bg1".into()],
            ..Directory::default()
        };
        let found = check(&policy(json!(["u1"]), json!(["g1"]), "enabled"), &dir);
        assert_eq!(
            found.as_deref(),
            Some("it blocks all users and does not exclude the break-glass account(s) bg1")
        );
        dir.group_members
            .insert("g1".into(), ["bg1".to_string()].into());
        assert_eq!(
            check(&policy(json!(["u1"]), json!(["g1"]), "enabled"), &dir),
            None
        );
        assert_eq!(
            check(&policy(json!(["BG1"]), json!([]), "enabled"), &dir),
            None
        );
    }
}
