//! Two readers must agree on every file: a backup of the demo tenant, which holds the
//! strings YAML readers most often get wrong, is read back by idgit and by YAML readers
//! the project did not write, a YAML 1.1 one (PyYAML) and a YAML 1.2 one (ruamel.yaml).

use std::process::Command;

use crate::common::TestEnv;

const READ_ALL: &str = r#"
import json, sys, yaml
from ruamel.yaml import YAML
ruamel = YAML(typ="safe", pure=True)
out = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out[path] = {"yaml11": yaml.safe_load(text), "yaml12": ruamel.load(text)}
json.dump(out, sys.stdout)
"#;

fn python_has_readers() -> bool {
    Command::new("python3")
        .args(["-c", "import yaml, ruamel.yaml"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn yaml_1_1_and_1_2_readers_read_back_what_graph_returned() {
    if !python_has_readers() {
        assert!(
            std::env::var("IDGIT_SKIP_PYYAML").is_ok(),
            "PyYAML and ruamel.yaml are needed: pip install pyyaml ruamel.yaml (or set IDGIT_SKIP_PYYAML=1)"
        );
        return;
    }
    let env = TestEnv::demo();
    assert_eq!(env.backup(&[]).code, 0);
    let files = env.head_files();
    let dir = env.repo();
    let paths: Vec<String> = files
        .keys()
        .map(|p| dir.join(p).display().to_string())
        .collect();
    let output = Command::new("python3")
        .arg("-c")
        .arg(READ_ALL)
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for (relative, content) in &files {
        let ours = idgit::yaml::from_yaml(content).unwrap();
        let path = dir.join(relative).display().to_string();
        assert_eq!(
            theirs[&path]["yaml11"], ours,
            "PyYAML reads {relative} differently"
        );
        assert_eq!(
            theirs[&path]["yaml12"], ours,
            "ruamel.yaml reads {relative} differently"
        );
    }
    // The demo tenant really does exercise the hard cases.
    let all: String = files.values().map(String::as_str).collect();
    for tricky in ["🚀", "O'Brien", "\"007\"", "\"yes\"", "\"12:30\"", "|"] {
        assert!(all.contains(tricky), "demo backup lacks {tricky}");
    }
}
