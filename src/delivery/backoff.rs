//! When to try a failed delivery again: exponential backoff with jitter, so many messages
//! failing together (the platform down) do not all come back in the same second.

use std::time::Duration;

/// The wait before attempt `attempts + 1`, after `attempts` (≥ 1) have failed:
/// `base · 2^(attempts-1)`, capped at `max`, then scaled by `jitter` in `[0, 1]` onto the
/// upper half of that window ("equal jitter"), so the wait never drops below half of it.
pub fn delay(attempts: i32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exponent = attempts.saturating_sub(1).clamp(0, 30) as u32;
    let window = base.checked_mul(1u32 << exponent).unwrap_or(max).min(max);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    window / 2 + window.mul_f64(jitter / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(2);
    const MAX: Duration = Duration::from_secs(600);

    #[test]
    fn doubles_with_each_attempt() {
        assert_eq!(delay(1, BASE, MAX, 1.0), Duration::from_secs(2));
        assert_eq!(delay(2, BASE, MAX, 1.0), Duration::from_secs(4));
        assert_eq!(delay(3, BASE, MAX, 1.0), Duration::from_secs(8));
        assert_eq!(delay(6, BASE, MAX, 1.0), Duration::from_secs(64));
    }

    #[test]
    fn never_exceeds_the_cap() {
        assert_eq!(delay(12, BASE, MAX, 1.0), MAX);
        assert_eq!(delay(40, BASE, MAX, 1.0), MAX);
        assert_eq!(delay(i32::MAX, BASE, MAX, 1.0), MAX);
    }

    #[test]
    fn jitter_stays_in_the_upper_half_of_the_window() {
        assert_eq!(delay(3, BASE, MAX, 0.0), Duration::from_secs(4));
        assert_eq!(delay(3, BASE, MAX, 0.5), Duration::from_secs(6));
        for j in [0.0, 0.1, 0.37, 0.99, 1.0] {
            let d = delay(5, BASE, MAX, j);
            assert!(
                d >= Duration::from_secs(16) && d <= Duration::from_secs(32),
                "{d:?}"
            );
        }
    }

    #[test]
    fn odd_inputs_are_tamed() {
        assert_eq!(delay(0, BASE, MAX, 1.0), BASE);
        assert_eq!(delay(-3, BASE, MAX, 1.0), BASE);
        assert_eq!(delay(1, BASE, MAX, 7.0), BASE);
        assert_eq!(delay(1, BASE, MAX, f64::NAN), BASE / 2);
    }
}
