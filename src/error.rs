//! The user-facing error: one line that says what went wrong and what to do.
//!
//! Lower layers have their own small error types (`GraphError`, `StoreError`,
//! `NormalizeError`); commands turn them into a `UserError` with a hint at the point
//! where they know what the user was trying to do.

use std::fmt;

/// An error to show the user, with an optional hint of the form "do X".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
}

impl UserError {
    pub fn new(message: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line: CI logs and terminals show it whole, and grep finds it.
        let message = self.message.replace(['\r', '\n'], " ");
        match &self.hint {
            Some(hint) => write!(f, "{message}; hint: {}", hint.replace(['\r', '\n'], " ")),
            None => f.write_str(&message),
        }
    }
}

impl std::error::Error for UserError {}

impl From<crate::graph::GraphError> for UserError {
    fn from(error: crate::graph::GraphError) -> Self {
        let hint = error.hint();
        UserError {
            message: error.to_string(),
            hint,
        }
    }
}

/// How a command ended, as the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; nothing to report (exit 0).
    Success,
    /// Done, and changes or drift were found where that is the question (exit 2).
    Changes,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Changes => 2,
        }
    }
}

/// Exit status for errors.
pub const EXIT_ERROR: u8 = 1;
