//! Who changed it: Entra's directory audit log, linked to the objects a backup found
//! changed and kept in git, because the tenant keeps its audit log for 30 days only.
//!
//! A backup reads the audit entries since the previous backup and stores, as a git note
//! on its commit (`refs/notes/idgit`), the entries whose targets changed in that commit.
//! Reports read the notes back. Reading the log needs `AuditLog.Read.All`; without it a
//! backup works as before and says once that actors are not recorded.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::graph::{ErrorKind, GraphClient, GraphError, Pager};

/// The notes ref that holds the links. Push it with the branch to keep them.
pub const NOTES_REF: &str = "refs/notes/idgit";

/// One audited action on one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The user's UPN, or the application's name when an app acted alone.
    pub actor: String,
    /// "Update conditional access policy".
    pub activity: String,
    /// ISO 8601, as the audit log gives it.
    pub time: String,
    /// The application used, when the log names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

/// Audit entries by target object ID (lower case).
pub type Links = BTreeMap<String, Vec<Actor>>;

/// What reading the audit log gave.
#[derive(Debug, Default)]
pub enum AuditRead {
    /// No previous backup to start from: there is nothing to link yet.
    #[default]
    NotNeeded,
    Read(Links),
    /// The app may not read the audit log.
    NotPermitted,
}

/// Reads the audit entries since `since` (ISO 8601). A permission refusal is not an
/// error; anything else is, and the caller decides how much it matters.
pub async fn read_since(client: &GraphClient, since: &str) -> Result<AuditRead, GraphError> {
    let url = format!("/auditLogs/directoryAudits?$filter=activityDateTime ge {since}");
    let mut pages = Pager::new(client.url(&url));
    let mut links = Links::new();
    while let Some(url) = pages.next_url()? {
        let page = match client.get_page(&url).await {
            Ok(page) => page,
            Err(error) if error.kind == ErrorKind::Forbidden => return Ok(AuditRead::NotPermitted),
            Err(error) => return Err(error),
        };
        for entry in &page.items {
            for (target, actor) in actors(entry) {
                links.entry(target).or_default().push(actor);
            }
        }
        pages.advance(page.next_link);
    }
    for actors in links.values_mut() {
        actors.sort_by(|a, b| {
            (&a.time, &a.actor, &a.activity).cmp(&(&b.time, &b.actor, &b.activity))
        });
        actors.dedup();
    }
    Ok(AuditRead::Read(links))
}

/// The (target, actor) pairs of one directoryAudit entry.
fn actors(entry: &Value) -> Vec<(String, Actor)> {
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let initiated = entry.get("initiatedBy");
    let user = initiated
        .and_then(|i| i.get("user"))
        .filter(|u| !u.is_null());
    let app = initiated
        .and_then(|i| i.get("app"))
        .filter(|a| !a.is_null());
    let app_name = text(app.and_then(|a| a.get("displayName")));
    let who = text(user.and_then(|u| u.get("userPrincipalName")))
        .or_else(|| text(user.and_then(|u| u.get("displayName"))))
        .or_else(|| app_name.clone())
        .unwrap_or_else(|| "unknown".to_string());
    let actor = Actor {
        actor: who,
        activity: text(entry.get("activityDisplayName")).unwrap_or_default(),
        time: text(entry.get("activityDateTime")).unwrap_or_default(),
        // The app is worth naming when a user acted through it.
        app: app_name.filter(|_| user.is_some()),
    };
    entry
        .get("targetResources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|target| text(target.get("id")))
        .map(|id| (id.to_ascii_lowercase(), actor.clone()))
        .collect()
}

/// The note for a commit: the links of the objects it changed, or `None`.
pub fn note_for(links: &Links, changed: &BTreeSet<String>) -> Option<String> {
    let kept: Links = links
        .iter()
        .filter(|(id, _)| changed.contains(*id))
        .map(|(id, actors)| (id.clone(), actors.clone()))
        .collect();
    if kept.is_empty() {
        return None;
    }
    let value = serde_json::json!({ "changedBy": kept });
    Some(crate::yaml::to_yaml(&value))
}

/// Links read back from the notes of the commits in `commits`.
pub fn links_of(repo: &git2::Repository, commits: &[git2::Oid]) -> Links {
    let mut links = Links::new();
    for commit in commits {
        let Ok(note) = repo.find_note(Some(NOTES_REF), *commit) else {
            continue;
        };
        let Ok(text) = note.message() else { continue };
        let Ok(value) = crate::yaml::from_yaml(text) else {
            continue;
        };
        let Ok(found) =
            serde_json::from_value::<Links>(value.get("changedBy").cloned().unwrap_or_default())
        else {
            continue;
        };
        for (id, actors) in found {
            let entry = links.entry(id).or_default();
            entry.extend(actors);
            entry.sort_by(|a, b| (&a.time, &a.actor).cmp(&(&b.time, &b.actor)));
            entry.dedup();
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_become_links_by_target() {
        let entry = json!({
            "activityDisplayName": "Update conditional access policy",
            "activityDateTime": "2026-11-27T10:00:00Z",
            "initiatedBy": {"user": {"userPrincipalName": "alice@contoso.com"}, "app": {"displayName": "Azure Portal"}},
            "targetResources": [{"id": "ABC", "type": "Policy"}],
        });
        let pairs = actors(&entry);
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].0, "abc");
        assert_eq!(pairs[0].1.actor, "alice@contoso.com");
        assert_eq!(pairs[0].1.app.as_deref(), Some("Azure Portal"));
        let app_only = json!({"initiatedBy": {"user": null, "app": {"displayName": "HR import"}}, "targetResources": [{"id": "u1"}]});
        assert_eq!(actors(&app_only)[0].1.actor, "HR import");
        assert_eq!(actors(&app_only)[0].1.app, None);
    }

    #[test]
    fn notes_keep_only_changed_objects() {
        let mut links = Links::new();
        let actor = Actor {
            actor: "a".into(),
            activity: "x".into(),
            time: "t".into(),
            app: None,
        };
        links.insert("keep".into(), vec![actor.clone()]);
        links.insert("drop".into(), vec![actor]);
        let changed: BTreeSet<String> = ["keep".to_string()].into();
        let note = note_for(&links, &changed).unwrap();
        assert!(note.contains("keep") && !note.contains("drop"));
        assert_eq!(note_for(&links, &BTreeSet::new()), None);
    }
}
