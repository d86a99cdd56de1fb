//! The one integration-test binary. Each module covers one capability; `common` holds
//! the test environment (emulator, temporary repository, pinned identity and clock).

mod common;

mod backup;
mod bad_input;
mod cli_help;
mod credentials;
mod demo;
mod diff;
mod foreign_server;
mod graph_client;
mod history;
mod init;
mod kinds;
mod readers;
mod restore;
mod validate;
mod workflows;

/// Every file in this directory must be listed above, or its tests would silently
/// never run.
#[test]
fn every_test_module_is_listed() {
    let listed = include_str!("main.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs").filter(|m| *m != "main") {
            assert!(
                listed.contains(&format!("mod {module};")),
                "tests/it/{name} is not listed in main.rs"
            );
        }
    }
}
