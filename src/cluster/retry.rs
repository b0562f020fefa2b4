//! The one retry of every request to an API server: transient errors are
//! tried again inside a deadline, with jittered exponential waits.

use std::time::Duration;

use tokio::time::Instant;

use super::error::{ClusterError, classify, transient};

/// Longest single API request (one attempt) inside [`retry`]: a connection
/// that stalls is given up and tried again, so one stalled attempt cannot
/// spend the whole step timeout or pre-flight budget.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The least time a retry leaves for its last attempt before the deadline.
const LAST_ATTEMPT: Duration = Duration::from_millis(100);

/// Calls `f` until it succeeds, fails for good, or the deadline passes;
/// transient errors (and an attempt that gets no answer within
/// [`ATTEMPT_TIMEOUT`]) are retried with exponential backoff (100 ms .. 2 s),
/// each wait drawn between half and all of it (see [`jittered`]).
/// Nothing runs past the deadline: the last attempt is cut at it. This is the
/// one retry mechanism for every request to an API server (the client
/// library's own retry layer is off, see [`Clusters::get`]); each retry is
/// logged at `info` (`-v`), and the final error says how many attempts were made.
///
/// # Errors
/// The classified error; `Timeout` (with the last error) when the deadline passed.
pub async fn retry<T, F, Fut>(deadline: Instant, cluster: &str, mut f: F) -> Result<T, ClusterError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let started = Instant::now();
    let mut backoff = RetryBackoff::default();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let attempt = tokio::time::timeout(left.min(ATTEMPT_TIMEOUT), f()).await;
        let why = match attempt {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) if transient(&e) => classify(cluster, &e).to_string(),
            Ok(Err(e)) => return Err(classify(cluster, &e)),
            Err(_) if left > ATTEMPT_TIMEOUT => format!(
                "no answer from the API server of `{cluster}` within {}s",
                ATTEMPT_TIMEOUT.as_secs()
            ),
            Err(_) => {
                return Err(ClusterError::Timeout(format!(
                    "no answer from the API server of `{cluster}` before the time limit ({})",
                    tries(attempts, started.elapsed())
                )));
            }
        };
        // The last attempt gets at least LAST_ATTEMPT before the deadline:
        // the backoff is shortened to leave it, not skipped.
        let left = deadline.saturating_duration_since(Instant::now());
        if left <= LAST_ATTEMPT {
            return Err(ClusterError::Timeout(format!(
                "{why} ({}, until the time limit)",
                tries(attempts, started.elapsed())
            )));
        }
        let wait = backoff.next().unwrap_or(MAX_WAIT).min(left - LAST_ATTEMPT);
        tracing::info!(
            "{why}; retrying in {} (attempt {attempts})",
            humantime::format_duration(Duration::from_millis(
                u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
            ))
        );
        tokio::time::sleep(wait).await;
    }
}

const FIRST_WAIT: Duration = Duration::from_millis(100);
const MAX_WAIT: Duration = Duration::from_secs(2);

/// The waits between attempts: 100 ms doubling up to 2 s, each jittered. The
/// same schedule serves [`retry`] and the watch of a `wait` step (whose client
/// library default starts at 800 ms and has no step deadline in mind); a watch
/// that gets through starts again from 100 ms.
#[derive(Debug)]
pub struct RetryBackoff {
    delay: Duration,
}

impl Default for RetryBackoff {
    fn default() -> Self {
        RetryBackoff { delay: FIRST_WAIT }
    }
}

impl Iterator for RetryBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let wait = jittered(self.delay);
        self.delay = (self.delay * 2).min(MAX_WAIT);
        Some(wait)
    }
}

impl kube::runtime::utils::Backoff for RetryBackoff {
    fn reset(&mut self) {
        self.delay = FIRST_WAIT;
    }
}

/// A wait between half of `delay` and all of it, drawn at random. Fixed waits
/// lock onto a periodic outage (a server down 750 ms of every second was met
/// at the same phase by every retry), and the shards of a nightly run that lose
/// their API server together would all retry at the same instants.
fn jittered(delay: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // A fresh RandomState is randomly keyed: enough randomness for a wait.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let fraction = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
    delay.mul_f64(0.5 + fraction / 2.0)
}

/// `3 attempts in 1.2s`.
fn tries(attempts: u32, took: Duration) -> String {
    format!(
        "{attempts} attempt{} in {:.1}s",
        if attempts == 1 { "" } else { "s" },
        took.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    // By the crate path: `super::*` would read as an import of `cluster` to the
    // text-based cycle checker.
    use crate::cluster::retry::{FIRST_WAIT, RetryBackoff, jittered};
    use std::time::Duration;

    #[test]
    fn the_waits_double_from_100_ms_to_2_s_and_start_again_after_a_reset() {
        use kube::runtime::utils::Backoff;
        let mut b = RetryBackoff::default();
        let upper: Vec<u64> = [100, 200, 400, 800, 1600, 2000, 2000].to_vec();
        for max in &upper {
            let w = b.next().unwrap().as_millis() as u64;
            assert!(w * 2 >= *max && w <= *max, "{w} ms for a delay of {max} ms");
        }
        b.reset();
        assert!(b.next().unwrap() <= FIRST_WAIT);
    }

    #[test]
    fn a_jittered_wait_lies_between_half_and_all_of_the_delay_and_varies() {
        let delay = Duration::from_secs(2);
        let waits: Vec<Duration> = (0..200).map(|_| jittered(delay)).collect();
        assert!(
            waits.iter().all(|w| *w >= delay / 2 && *w <= delay),
            "{waits:?}"
        );
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 150, "{} distinct waits", distinct.len());
        // Both halves of the range are drawn.
        assert!(waits.iter().any(|w| *w < delay * 3 / 4));
        assert!(waits.iter().any(|w| *w > delay * 3 / 4));
    }
}
