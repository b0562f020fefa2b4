//! `run --balance REPORT`: the playbooks of a shard chosen by the durations
//! of an earlier run instead of round robin. Longest first, each to the
//! shard with the least time so far (ties: fewer playbooks, then the lower
//! shard); so the shards' summed durations differ by at most the longest
//! playbook. A playbook the report does not have counts as the mean of
//! those it has (docs/reports.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::model::outcome::from_secs;

#[derive(Deserialize)]
struct Report {
    playbooks: Vec<Played>,
}

#[derive(Deserialize)]
struct Played {
    path: String,
    #[serde(deserialize_with = "from_secs")]
    duration: Duration,
}

/// Each playbook's duration in the report at `path`, by its file.
///
/// # Errors
/// An unreadable report, one over the size limit, or not a JSON report.
pub fn durations(path: &Path) -> Result<HashMap<PathBuf, Duration>, String> {
    let text = super::observed::read_report(path)?;
    let report: Report = serde_json::from_str(&text)
        .map_err(|e| format!("not a scenario JSON report (`run --report json=FILE`): {e}"))?;
    let mut out: HashMap<PathBuf, Duration> = HashMap::new();
    for p in report.playbooks {
        let d = out
            .entry(super::rerun::key(Path::new(&p.path)))
            .or_default();
        *d = (*d).max(p.duration);
    }
    Ok(out)
}

/// The shard (0-based) of each of `costs`, longest first to the least
/// loaded of `n` shards; ties between equal costs go in the given order.
#[must_use]
pub fn assign(costs: &[Duration], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by(|&a, &b| costs[b].cmp(&costs[a]).then(a.cmp(&b)));
    let mut load = vec![(Duration::ZERO, 0usize); n.max(1)];
    let mut shard_of = vec![0; costs.len()];
    for k in order {
        let (s, _) = load
            .iter()
            .enumerate()
            .min_by_key(|(i, l)| (l.0, l.1, *i))
            .unwrap_or((0, &(Duration::ZERO, 0)));
        load[s].0 = load[s].0.saturating_add(costs[k]);
        load[s].1 += 1;
        shard_of[k] = s;
    }
    shard_of
}

/// The files of shard `index` (1-based) of `count` by the durations in `known`.
#[must_use]
pub fn shard(
    files: Vec<PathBuf>,
    known: &HashMap<PathBuf, Duration>,
    index: usize,
    count: usize,
) -> Vec<PathBuf> {
    let found: Vec<Option<Duration>> = files
        .iter()
        .map(|f| known.get(&super::rerun::key(f)).copied())
        .collect();
    let seen: Vec<Duration> = found.iter().flatten().copied().collect();
    let mean = u32::try_from(seen.len())
        .ok()
        .filter(|&n| n > 0)
        .map_or(Duration::ZERO, |n| {
            seen.iter()
                .fold(Duration::ZERO, |a, d| a.saturating_add(*d))
                / n
        });
    let costs: Vec<Duration> = found.iter().map(|d| d.unwrap_or(mean)).collect();
    let shard_of = assign(&costs, count);
    files
        .into_iter()
        .zip(shard_of)
        .filter(|(_, s)| s + 1 == index)
        .map(|(f, _)| f)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::assign;
    use std::time::Duration;

    #[test]
    fn longest_first_to_the_least_loaded_shard() {
        let secs = |v: &[u64]| {
            v.iter()
                .map(|s| Duration::from_secs(*s))
                .collect::<Vec<_>>()
        };
        assert_eq!(assign(&secs(&[1, 9, 5, 4]), 2), [0, 0, 1, 1]);
        // Ties: in the given order; equal loads: fewer playbooks, then the lower shard.
        assert_eq!(assign(&secs(&[0, 0, 0, 0, 0]), 2), [0, 1, 0, 1, 0]);
        assert_eq!(assign(&secs(&[3, 3, 3]), 3), [0, 1, 2]);
        assert_eq!(assign(&[], 4), Vec::<usize>::new());
        // Durations near the largest do not overflow.
        assert_eq!(
            assign(&[Duration::MAX, Duration::MAX, Duration::MAX], 2),
            [0, 1, 0]
        );
    }

    #[test]
    fn summed_durations_differ_by_at_most_the_longest_playbook() {
        let mut seed = 7u64;
        for round in 0..200 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (seed >> 33) as usize % 40;
            let n = 1 + (seed >> 20) as usize % 7;
            let costs: Vec<Duration> = (0..len)
                .map(|k| Duration::from_millis((seed >> (k % 30)) % 10_000))
                .collect();
            let shards = assign(&costs, n);
            assert_eq!(shards, assign(&costs, n), "deterministic");
            let mut sums = vec![Duration::ZERO; n];
            for (c, s) in costs.iter().zip(&shards) {
                sums[*s] += *c;
            }
            let longest = costs.iter().max().copied().unwrap_or_default();
            let (lo, hi) = (sums.iter().min().unwrap(), sums.iter().max().unwrap());
            assert!(*hi - *lo <= longest, "round {round}: {sums:?} {costs:?}");
        }
    }
}
