//! Fault injection: throttling, server errors, slow and broken responses.
//!
//! Rules are checked in the order they were added. A rule first lets `skip` matching requests
//! through, then fires on the next `times` matching ones, then is spent. A request that one
//! rule lets through (while skipping) is still offered to the later rules, so a test can stack
//! "fail the third request" and "delay every request" on the same path.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Substring of the request path (`/v1.0/groups`); `""` matches every Graph request.
    pub path_contains: String,
    pub fault: Fault,
    /// Fire on this many matching requests, then stop; `u32::MAX` means forever.
    pub times: u32,
    /// Let this many matching requests through untouched before firing.
    pub skip: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// An error status with a Graph error body (`TooManyRequests`, `ServiceUnavailable`, ...).
    /// `retry_after` is sent verbatim as the `Retry-After` header; `None` sends none.
    /// Conditional Access paths never get `Retry-After` on 429, like the real service.
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// A 200 whose JSON body is the real response cut in half.
    TruncatedJson,
    /// The real response, after this extra delay.
    Delay(Duration),
    /// The real page, with `@odata.nextLink` pointing at the same page again.
    NextLinkLoop,
}

/// The live rule list of one emulator.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    rules: Vec<FaultRule>,
}

impl FaultBook {
    pub(crate) fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault for a request to `path`, consuming one use of the rule that fires.
    pub(crate) fn take(&mut self, path: &str) -> Option<Fault> {
        let mut fired = None;
        for rule in &mut self.rules {
            if rule.times == 0 || !path.contains(&rule.path_contains) {
                continue;
            }
            if rule.skip > 0 {
                rule.skip -= 1;
                continue;
            }
            if rule.times != u32::MAX {
                rule.times -= 1;
            }
            fired = Some(rule.fault.clone());
            break;
        }
        self.rules.retain(|r| r.times > 0);
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, times: u32, skip: u32) -> FaultRule {
        FaultRule {
            path_contains: path.into(),
            fault: Fault::TruncatedJson,
            times,
            skip,
        }
    }

    #[test]
    fn skip_then_fire_then_spent() {
        let mut book = FaultBook::default();
        book.add(rule("/v1.0/users", 2, 1));
        assert_eq!(book.take("/v1.0/groups"), None);
        assert_eq!(book.take("/v1.0/users"), None);
        assert!(book.take("/v1.0/users").is_some());
        assert!(book.take("/v1.0/users").is_some());
        assert_eq!(book.take("/v1.0/users"), None);
    }

    #[test]
    fn skipping_rule_passes_request_to_later_rules() {
        let mut book = FaultBook::default();
        book.add(rule("", 1, 5));
        book.add(rule("", u32::MAX, 0));
        for _ in 0..10 {
            assert!(book.take("/v1.0/x").is_some());
        }
    }
}
