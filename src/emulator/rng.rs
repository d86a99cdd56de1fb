//! Deterministic randomness and a fixed clock.
//!
//! The emulator must give byte-identical responses for the same seed, so nothing here reads
//! the wall clock or the OS random source. SplitMix64 is tiny, fast and statistically good
//! enough for test data; it is not meant to be unpredictable.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// The emulator's "now": error bodies and token responses carry it instead of the real time.
pub(crate) const NOW_GRAPH: &str = "2026-11-28T10:17:06";
/// The same instant in the token endpoint's timestamp format.
pub(crate) const NOW_AAD: &str = "2026-11-28 10:17:06Z";

/// Seconds since the Unix epoch of 2022-01-01T00:00:00Z, the earliest creation date in seeds.
const SEED_EPOCH: u64 = 1_640_995_200;

/// [`NOW_GRAPH`] as seconds after [`SEED_EPOCH`].
const NOW_OFFSET: u64 = 154_865_826;

/// SplitMix64 (Steele, Lea, Flood 2014).
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A value in `0..bound` (`bound` must be non-zero; callers pass constants or checked sizes).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        // Modulo bias is irrelevant for test data and keeps the sequence easy to reason about.
        (self.next_u64() % bound.max(1) as u64) as usize
    }

    /// A value in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(crate) fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }

    /// A lower-case, hyphenated version-4-shaped GUID, the way Graph prints object ids.
    pub(crate) fn guid(&mut self) -> String {
        let mut b = self.bytes::<16>();
        b[6] = (b[6] & 0x0F) | 0x40;
        b[8] = (b[8] & 0x3F) | 0x80;
        uuid::Uuid::from_bytes(b).to_string()
    }

    /// An app role assignment id: Graph uses 43-character base64url strings, not GUIDs.
    pub(crate) fn assignment_id(&mut self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes::<32>())
    }

    /// Standard base64 of `n` random bytes, for certificate blobs and thumbprints.
    pub(crate) fn base64_blob(&mut self, n: usize) -> String {
        let bytes: Vec<u8> = (0..n).map(|_| (self.next_u64() & 0xFF) as u8).collect();
        STANDARD.encode(bytes)
    }

    /// A creation timestamp between the seed epoch and roughly three years later.
    pub(crate) fn timestamp(&mut self) -> String {
        timestamp(self.next_u64() % (3 * 365 * 86_400))
    }
}

/// The SplitMix64 output function, also used to derive per-request ids from a counter.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The time of the `n`th write to a tenant: the emulator's "now" plus `n` seconds. Writes get
/// distinct, increasing timestamps without reading the wall clock.
pub(crate) fn write_time(n: u64) -> String {
    timestamp(NOW_OFFSET + n)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for `offset` seconds after the seed epoch.
pub(crate) fn timestamp(offset: u64) -> String {
    let secs = SEED_EPOCH + offset;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_calendar_correct() {
        assert_eq!(timestamp(0), "2022-01-01T00:00:00Z");
        assert_eq!(timestamp(59 * 86_400 + 3_661), "2022-03-01T01:01:01Z");
        assert_eq!(timestamp(4 * 365 * 86_400 + 86_400), "2026-01-01T00:00:00Z");
        assert_eq!(write_time(0), format!("{NOW_GRAPH}Z"));
        assert_eq!(write_time(61), "2026-11-28T10:18:07Z");
    }

    #[test]
    fn guids_are_deterministic_and_well_formed() {
        let a = Rng::new(7).guid();
        assert_eq!(a, Rng::new(7).guid());
        assert!(uuid::Uuid::parse_str(&a).is_ok());
        assert_eq!(a.as_bytes()[14], b'4');
    }
}
