//! The `--help` texts are documentation: snapshot them so that changes are reviewed.

use crate::common::TestEnv;

#[test]
fn help_texts() {
    let env = TestEnv::new(idgit::emulator::EmulatorConfig {
        seed: idgit::emulator::Seed::Empty,
        ..Default::default()
    });
    for command in [
        &["--help"][..],
        &["backup", "--help"],
        &["diff", "--help"],
        &["drift", "--help"],
        &["log", "--help"],
        &["show", "--help"],
        &["validate", "--help"],
        &["emulator", "--help"],
        &["demo", "--help"],
        &["plan", "--help"],
        &["apply", "--help"],
        &["init", "--help"],
    ] {
        let run = env.idgit(command);
        assert_eq!(run.code, 0, "{run:?}");
        insta::assert_snapshot!(command.join("_").replace("--", ""), run.stdout);
    }
}
