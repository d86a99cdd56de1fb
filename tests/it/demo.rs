//! `idgit demo`, the README's first command, works with nothing set up, and twice.

use crate::common::TestEnv;

#[test]
fn demo_backs_up_and_a_second_run_makes_no_commit() {
    let env = TestEnv::new(idgit::emulator::EmulatorConfig {
        seed: idgit::emulator::Seed::Empty,
        ..Default::default()
    });
    let dir = env.dir.path().join("idgit-demo");
    let first = env.idgit_with_env(&["demo", "--dir", dir.to_str().unwrap()], &[]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(
        first.stdout.contains("objects of 8 kinds into"),
        "{}",
        first.stdout
    );
    let second = env.idgit_with_env(&["demo", "--dir", dir.to_str().unwrap()], &[]);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second.stdout.contains("nothing changed, so no new commit"),
        "{}",
        second.stdout
    );
    let repo = git2::Repository::open(&dir).unwrap();
    let mut walk = repo.revwalk().unwrap();
    walk.push_head().unwrap();
    assert_eq!(walk.count(), 1);
}
