//! `idgit demo`, the README's first command, works with nothing set up, tells the whole
//! story (backup, incident, backup, diff, plan, apply, backup), and can run again.

use crate::common::TestEnv;

#[test]
fn demo_restores_the_incident_and_runs_again() {
    let env = TestEnv::new(idgit::emulator::EmulatorConfig {
        seed: idgit::emulator::Seed::Empty,
        ..Default::default()
    });
    let dir = env.dir.path().join("idgit-demo");
    let first = env.idgit_with_env(&["demo", "--dir", dir.to_str().unwrap()], &[]);
    assert_eq!(first.code, 0, "{first:?}");
    for expected in [
        "== 1/7 Back up the tenant",
        "objects of 8 kinds into",
        "an HR import overwrote the department of 50 users",
        "deleted the named location \"Branch offices\"",
        "removed 2 members from the group \"Finance\"",
        "~ Conditional access policy \"CA001: Require MFA for administrators\"",
        "undelete named location \"Branch offices\"",
        "Verified: the tenant matches",
        "Its files are byte for byte those of the first backup",
    ] {
        assert!(
            first.stdout.contains(expected),
            "{expected:?} missing from:\n{}",
            first.stdout
        );
    }
    let second = env.idgit_with_env(&["demo", "--dir", dir.to_str().unwrap()], &[]);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second
            .stdout
            .contains("nothing changed since the last backup, so no new commit"),
        "{}",
        second.stdout
    );
    assert!(second
        .stdout
        .contains("Its files are byte for byte those of the first backup"));
    let repo = git2::Repository::open(&dir).unwrap();
    let mut walk = repo.revwalk().unwrap();
    walk.push_head().unwrap();
    // First run: baseline, incident, restored. Second run: incident, restored.
    assert_eq!(walk.count(), 5);
}
