//! The one place that writes to stdout and stderr.
//!
//! Results go to stdout (text for people, JSON for machines); progress and warnings go
//! to stderr, so `idgit backup --format json | jq` always gets clean JSON. On a terminal
//! progress is drawn as live spinners; elsewhere (CI, pipes) it is plain lines.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Machine or human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Writes results and progress.
pub struct Printer {
    format: Format,
    quiet: bool,
    live: bool,
}

impl Printer {
    pub fn new(format: Format, quiet: bool) -> Self {
        let ci = crate::env::var(crate::env::CI).is_some();
        Printer {
            format,
            quiet,
            live: std::io::stderr().is_terminal() && !ci && !quiet,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// A result line for people (ignored in JSON mode).
    pub fn line(&self, text: &str) {
        if self.format == Format::Text {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
        }
    }

    /// The result for machines (ignored in text mode).
    pub fn json(&self, value: &serde_json::Value) {
        if self.format == Format::Json {
            let mut out = std::io::stdout().lock();
            let text = serde_json::to_string_pretty(value).unwrap_or_default();
            let _ = writeln!(out, "{text}");
        }
    }

    /// A rendered document (a report), written as it is whatever the format.
    pub fn document(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
    }

    /// Whether stdout is a terminal that wants colour (NO_COLOR unset).
    pub fn color(&self) -> bool {
        std::io::stdout().is_terminal() && crate::env::var(crate::env::NO_COLOR).is_none()
    }

    /// A note to the person running the command, on stderr.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// The final error line.
    pub fn error(&self, text: &str) {
        eprintln!("error: {text}");
    }

    /// Progress for reading several kinds at once.
    pub fn progress(&self, kinds: &[&'static str]) -> Progress {
        let bars = if self.live {
            let multi =
                indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
            let style = indicatif::ProgressStyle::with_template("{spinner} {prefix:<30} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
            let bars = kinds
                .iter()
                .map(|kind| {
                    let bar = multi.add(indicatif::ProgressBar::new_spinner());
                    bar.set_style(style.clone());
                    bar.set_prefix(kind.to_string());
                    bar.set_message("waiting");
                    bar.enable_steady_tick(Duration::from_millis(120));
                    (*kind, bar)
                })
                .collect();
            Some(bars)
        } else {
            None
        };
        Progress {
            bars,
            quiet: self.quiet,
            started: Instant::now(),
            last_line: Mutex::new(BTreeMap::new()),
        }
    }
}

/// Per-kind progress of a long read. Shared between tasks.
pub struct Progress {
    bars: Option<BTreeMap<&'static str, indicatif::ProgressBar>>,
    quiet: bool,
    started: Instant,
    /// When each kind last printed a plain progress line.
    last_line: Mutex<BTreeMap<&'static str, Instant>>,
}

/// Plain progress lines at most this often per kind, so CI logs stay readable.
const LINE_INTERVAL: Duration = Duration::from_secs(10);

impl Progress {
    pub fn advanced(&self, kind: &'static str, objects: usize) {
        if let Some(bar) = self.bars.as_ref().and_then(|b| b.get(kind)) {
            bar.set_message(format!("{objects} objects"));
            return;
        }
        if self.quiet {
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let due = last
            .get(kind)
            .is_none_or(|t| now.duration_since(*t) >= LINE_INTERVAL);
        if due && now.duration_since(self.started) >= LINE_INTERVAL {
            eprintln!("{kind}: {objects} objects so far");
            last.insert(kind, now);
        }
    }

    pub fn finished(&self, kind: &'static str, objects: usize, elapsed: Duration) {
        let noun = if objects == 1 { "object" } else { "objects" };
        let text = format!("{objects} {noun} in {:.1}s", elapsed.as_secs_f64());
        if let Some(bar) = self.bars.as_ref().and_then(|b| b.get(kind)) {
            bar.finish_with_message(text);
        } else if !self.quiet {
            eprintln!("{kind}: {text}");
        }
    }

    pub fn failed(&self, kind: &'static str) {
        if let Some(bar) = self.bars.as_ref().and_then(|b| b.get(kind)) {
            bar.abandon_with_message("failed");
        }
    }

    /// Removes live spinners before the result is printed.
    pub fn clear(&self) {
        if let Some(bars) = &self.bars {
            for bar in bars.values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }
}
