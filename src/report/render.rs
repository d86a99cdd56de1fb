//! Laying out a report: text for terminals, Markdown for pull requests and job
//! summaries, JSON for machines. Templates (in `templates/`) see only the view model.

use minijinja::{context, Environment, Value as TemplateValue};

use super::Report;
use crate::plan::Plan;

/// GitHub refuses comments and job summaries longer than this.
pub const MARKDOWN_LIMIT: usize = 65_536;

/// Sections with more changed fields than this fold into `<details>`.
const DETAILS_AFTER: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Markdown,
    Json,
}

/// Renders a report. `color` adds ANSI colours to text.
pub fn render(report: &Report, format: ReportFormat, color: bool) -> String {
    match format {
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
            text.push('\n');
            text
        }
        ReportFormat::Text => template(color).render_report("text", report, 0),
        ReportFormat::Markdown => markdown(report, MARKDOWN_LIMIT),
    }
}

/// Markdown within GitHub's limit: whole object sections are left out from the end,
/// with a note saying how many, rather than cutting a section in half.
fn markdown(report: &Report, limit: usize) -> String {
    let env = template(false);
    let full = env.render_report("markdown", report, 0);
    if full.len() <= limit {
        return full;
    }
    let (mut keep, mut drop) = (0, report.objects.len());
    // Binary search for the most sections that fit.
    while keep + 1 < drop {
        let middle = (keep + drop) / 2;
        let text = env.render_report(
            "markdown",
            &truncated(report, middle),
            report.objects.len() - middle,
        );
        if text.len() <= limit {
            keep = middle;
        } else {
            drop = middle;
        }
    }
    env.render_report(
        "markdown",
        &truncated(report, keep),
        report.objects.len() - keep,
    )
}

fn truncated(report: &Report, objects: usize) -> Report {
    let mut report = report.clone();
    report.objects.truncate(objects);
    report
}

struct Templates {
    env: Environment<'static>,
}

impl Templates {
    fn render_report(&self, name: &str, report: &Report, omitted: usize) -> String {
        let heading = heading(report);
        let result = self.env.get_template(name).and_then(|t| {
            t.render(context! {
                heading => heading,
                objects => TemplateValue::from(minijinja::value::Serde(&report.objects)),
                summary => TemplateValue::from(minijinja::value::Serde(&report.summary)),
                findings => TemplateValue::from(minijinja::value::Serde(&report.findings)),
                omitted => omitted,
                details_after => DETAILS_AFTER,
            })
        });
        // The templates are embedded and covered by snapshot tests: a failure here is a
        // bug, shown rather than hidden.
        result.unwrap_or_else(|e| format!("report template error: {e}\n"))
    }
}

/// Renders a plan: the changes it makes, as a report, then its actions. The JSON form
/// is the plan itself, with the report under `changes`; `--out` saves the same JSON.
pub fn render_plan(report: &Report, plan: &Plan, format: ReportFormat, color: bool) -> String {
    match format {
        ReportFormat::Json => {
            let mut text =
                serde_json::to_string_pretty(&plan_json(report, plan)).unwrap_or_default();
            text.push('\n');
            text
        }
        ReportFormat::Text => {
            let mut text = template(color).render_report("text", report, 0);
            text.push_str(&template(color).render_plan("plan_text", plan));
            text
        }
        ReportFormat::Markdown => {
            // The plan's table gets a quarter of GitHub's limit; the report the rest.
            let actions = plan_markdown(plan, MARKDOWN_LIMIT / 4);
            let mut text = markdown(report, MARKDOWN_LIMIT - actions.len());
            text.push_str(&actions);
            text
        }
    }
}

/// Only a plan's actions, notes and blockers: for a saved plan, whose report is not
/// kept in a form worth reading again.
pub fn render_plan_actions(plan: &Plan, color: bool) -> String {
    let mut text = format!(
        "Plan {} to restore {} ({})\n",
        plan.plan_id,
        plan.desired.name,
        &plan.desired.commit[..plan.desired.commit.len().min(12)]
    );
    text.push_str(&template(color).render_plan("plan_text", plan));
    text
}

/// The saved and printed JSON form of a plan.
pub fn plan_json(report: &Report, plan: &Plan) -> serde_json::Value {
    let mut value = serde_json::to_value(plan).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "changes".into(),
            serde_json::to_value(report).unwrap_or_default(),
        );
    }
    value
}

/// "3 actions: 1 undelete, 2 update."
pub fn plan_summary(plan: &Plan) -> String {
    if plan.actions.is_empty() {
        return "Plan: no changes.".into();
    }
    let mut counts: std::collections::BTreeMap<crate::plan::ActionType, usize> =
        std::collections::BTreeMap::new();
    for action in &plan.actions {
        *counts.entry(action.action).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(action, n)| format!("{n} {}", action.verb()))
        .collect();
    let s = if plan.actions.len() == 1 { "" } else { "s" };
    format!(
        "Plan: {} action{s} ({}).",
        plan.actions.len(),
        parts.join(", ")
    )
}

/// The plan's Markdown within `limit` bytes: rows of the action table are left out from
/// the end, with a note, until it fits.
fn plan_markdown(plan: &Plan, limit: usize) -> String {
    let env = template(false);
    let full = env.render_plan("plan_markdown", plan);
    if full.len() <= limit {
        return full;
    }
    let shorter = |rows: usize| {
        let mut text = env.render_plan_rows("plan_markdown", plan, rows);
        text.push_str(&format!(
            "\n_{} more actions are not shown here; `idgit plan --format json` lists them all._\n",
            plan.actions.len() - rows
        ));
        text
    };
    let (mut keep, mut drop) = (0, plan.actions.len());
    while keep + 1 < drop {
        let middle = (keep + drop) / 2;
        if shorter(middle).len() <= limit {
            keep = middle;
        } else {
            drop = middle;
        }
    }
    shorter(keep)
}

impl Templates {
    fn render_plan(&self, name: &str, plan: &Plan) -> String {
        self.render_plan_rows(name, plan, plan.actions.len())
    }

    /// The plan with only its first `rows` actions listed.
    fn render_plan_rows(&self, name: &str, plan: &Plan, rows: usize) -> String {
        let shown = &plan.actions[..rows.min(plan.actions.len())];
        let result = self.env.get_template(name).and_then(|t| {
            t.render(context! {
                desired => format!("{} ({})", plan.desired.name, &plan.desired.commit[..plan.desired.commit.len().min(12)]),
                actions => TemplateValue::from(minijinja::value::Serde(shown)),
                total => plan.actions.len(),
                remapped => TemplateValue::from(minijinja::value::Serde(&plan.remapped)),
                notes => TemplateValue::from(minijinja::value::Serde(&plan.notes)),
                kept => TemplateValue::from(minijinja::value::Serde(&plan.kept)),
                blockers => TemplateValue::from(minijinja::value::Serde(&plan.blockers)),
                summary => plan_summary(plan),
            })
        });
        result.unwrap_or_else(|e| format!("plan template error: {e}\n"))
    }
}

fn heading(report: &Report) -> String {
    let describe = |r: &super::Revision| match &r.commit {
        // A revision named by its own commit ID is shown once, shortened.
        Some(commit) if commit.starts_with(&r.name) => commit[..commit.len().min(12)].to_string(),
        Some(commit) => format!("{} ({})", r.name, &commit[..commit.len().min(12)]),
        None => r.name.clone(),
    };
    match &report.from {
        Some(from) => format!(
            "Changes from {} to {}",
            describe(from),
            describe(&report.to)
        ),
        None => format!("Changes in {}", describe(&report.to)),
    }
}

fn template(color: bool) -> Templates {
    let mut env = Environment::new();
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .trim_blocks(true)
        .build()
        .expect("a valid syntax configuration");
    env.set_syntax(syntax);
    env.add_template("text", include_str!("templates/text.j2"))
        .expect("text template parses");
    env.add_template("markdown", include_str!("templates/markdown.j2"))
        .expect("markdown template parses");
    env.add_template("plan_text", include_str!("templates/plan_text.j2"))
        .expect("plan text template parses");
    env.add_template("plan_markdown", include_str!("templates/plan_markdown.j2"))
        .expect("plan markdown template parses");
    env.add_filter("noun", |kind: String| {
        crate::catalog::kind(&kind).map(super::noun).unwrap_or(kind)
    });
    env.add_filter("verb", |action: String| {
        match action.as_str() {
            "addRelationship" => "add",
            "removeRelationship" => "remove",
            other => return other.to_string(),
        }
        .to_string()
    });
    env.add_filter("sigil", |action: String| match action.as_str() {
        "added" => "+".to_string(),
        "removed" => "-".to_string(),
        _ => "~".to_string(),
    });
    env.add_filter("q", |text: String| {
        format!("\"{}\"", text.replace(['\n', '\r'], " "))
    });
    env.add_filter("md", escape_markdown);
    env.add_filter("html", |text: String| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    });
    env.add_filter("capitalize", |text: String| {
        let mut chars = text.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect::<String>())
            .unwrap_or_default()
    });
    env.add_filter("paint", move |text: String, style: String| {
        paint(&text, &style, color)
    });
    Templates { env }
}

fn paint(text: &str, style: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match style {
        "added" | "undelete" | "recreate" | "addRelationship" => "32",
        "removed" | "delete" | "removeRelationship" => "31",
        "changed" | "update" => "33",
        "security" => "1;31",
        _ => return text.to_string(),
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Escapes what Markdown or GitHub would otherwise interpret in names from the tenant:
/// emphasis, links, HTML, tables, mentions.
fn escape_markdown(text: String) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '@' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_markdown_is_cut_between_sections_with_a_note() {
        let object = super::super::ObjectReport {
            kind: "users",
            noun: "user".into(),
            id: "u".into(),
            name: "someone@contoso.com".into(),
            action: crate::diff::Action::Changed,
            path: "users/someone.u.yaml".into(),
            previous_path: None,
            sentence: String::new(),
            security: Vec::new(),
            changed_by: Vec::new(),
            fields: vec![super::super::FieldReport {
                path: "department".into(),
                label: "department".into(),
                text: "\"Sales\" → \"Imported by HR\"".into(),
                before: None,
                after: None,
                added: Vec::new(),
                removed: Vec::new(),
            }],
        };
        let report = super::super::Report {
            format_version: 1,
            from: None,
            to: super::super::Revision {
                name: "HEAD".into(),
                commit: None,
                date: None,
                subject: None,
            },
            summary: Vec::new(),
            objects: vec![object; 2000],
            findings: Vec::new(),
        };
        let text = render(&report, ReportFormat::Markdown, false);
        assert!(text.len() <= MARKDOWN_LIMIT, "{}", text.len());
        assert!(text.contains("more changed objects are not shown here"));
        assert!(text.trim_end().ends_with("lists them all._"));
    }

    #[test]
    fn a_long_plan_fits_in_markdown_with_a_note() {
        let action = crate::plan::PlannedAction {
            number: 1,
            action: crate::plan::ActionType::Update,
            kind: "users".into(),
            object_id: "u".into(),
            name: "someone@contoso.com".into(),
            description: "set department".into(),
            request: crate::plan::Request {
                method: "PATCH".into(),
                url: "/users/0f8a1e1a-53fc-49f3-ab27-000b42bb3287".into(),
                body: None,
            },
            depends_on: Vec::new(),
            creates: None,
            creates_app_id: None,
            sets_random_password: false,
        };
        let plan = Plan {
            format_version: 1,
            plan_id: "0123456789abcdef".into(),
            tenant: None,
            desired: crate::plan::DesiredRevision {
                name: "HEAD".into(),
                commit: "c".repeat(40),
            },
            selection: Vec::new(),
            prune: false,
            ca_report_only: false,
            actions: (1..=5000)
                .map(|n| crate::plan::PlannedAction {
                    number: n,
                    ..action.clone()
                })
                .collect(),
            preconditions: Vec::new(),
            remapped: Vec::new(),
            kept: Vec::new(),
            notes: Vec::new(),
            blockers: Vec::new(),
        };
        let text = plan_markdown(&plan, MARKDOWN_LIMIT / 4);
        assert!(text.len() <= MARKDOWN_LIMIT / 4, "{}", text.len());
        assert!(text.contains("more actions are not shown here"));
        assert!(
            text.contains("Plan: 5000 actions (5000 update)."),
            "the summary counts them all"
        );
    }

    #[test]
    fn markdown_escapes_tenant_text() {
        assert_eq!(
            escape_markdown("a|b <script> @team *x*".into()),
            "a\\|b \\<script\\> \\@team \\*x\\*"
        );
    }
}
