//! Plan benchmark: `idgit plan` against a large emulated tenant when the revision to
//! restore differs from the tenant in 0.1%, 1% and 10% of the users, next to
//! `idgit drift` (the same read of the tenant, compared with HEAD, no planning). The
//! read costs the same for every run; planning should add cost in proportion to the
//! change only.
//!
//! ```text
//! cargo bench --bench plan -- --users 100000
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support.rs"]
mod support;

use std::path::Path;

use support::run_idgit;

fn main() {
    let users = support::users_arg(20_000);
    let dir = tempfile::tempdir().unwrap();
    let (mut emulator, envs, repo_path) = support::backed_up_large_tenant(users, dir.path());

    let repo = git2::Repository::open(&repo_path).unwrap();
    let base = repo.head().unwrap().peel_to_commit().unwrap();
    let user_count = base
        .tree()
        .unwrap()
        .get_path(Path::new("users"))
        .unwrap()
        .to_object(&repo)
        .unwrap()
        .as_tree()
        .unwrap()
        .len();
    let repo_arg = repo_path.to_str().unwrap();

    println!("`idgit plan` against --seed large --users {users} ({user_count} user files)\n");
    println!("| users to restore | idgit drift (read + compare) | idgit plan | peak memory | plan / drift |");
    println!("|---|---|---|---|---|");
    for permille in [1, 10, 100] {
        let changed = user_count * permille / 1000;
        let commit = change_users(&repo, &base, changed).to_string();
        let (drift, _) = run_idgit(
            &["drift", "--quiet", "--repo", repo_arg, "--format", "json"],
            &envs,
        );
        let (plan, rss) = run_idgit(
            &[
                "plan", "--quiet", "--repo", repo_arg, "--at", &commit, "--format", "json",
            ],
            &envs,
        );
        println!(
            "| {changed} ({:.1}%) | {:.2} s | {:.2} s | {} MB | {:.2} |",
            permille as f64 / 10.0,
            drift.as_secs_f64(),
            plan.as_secs_f64(),
            rss / 1024,
            plan.as_secs_f64() / drift.as_secs_f64()
        );
    }
    let _ = emulator.kill();
    let _ = emulator.wait();
}

/// A commit on top of `base` in which the first `count` user files have a different
/// department: the desired state a plan restores.
fn change_users(repo: &git2::Repository, base: &git2::Commit<'_>, count: usize) -> git2::Oid {
    support::commit_with_changed_users(repo, base, count, |content| {
        let mut content = idgit::yaml::from_yaml(std::str::from_utf8(content).unwrap()).unwrap();
        content["properties"]["department"] = "Restored by the benchmark".into();
        idgit::yaml::to_yaml(&content).into_bytes()
    })
}
