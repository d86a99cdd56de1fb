//! One module per command: its clap arguments (whose doc comments are the `--help`
//! text) and its `run` function.

pub mod apply;
pub mod backup;
pub mod demo;
pub mod diff;
pub mod drift;
pub mod emulator;
pub mod init;
pub mod log;
pub mod plan;
pub mod restore;
pub mod show;
pub mod validate;
