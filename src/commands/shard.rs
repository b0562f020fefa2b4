//! Which playbooks this run takes: `--shard I/N`, or, in a pod of a
//! Kubernetes Indexed Job, the pod's `JOB_COMPLETION_INDEX` (0-based) out of
//! `--shard-count N` / `SCENARIO_SHARD_COUNT` (docs/limits.md).

use crate::language::limits::{MAX_SHARDS, excerpt};
use crate::language::untrusted::clean_line;

/// The environment variable an Indexed Job sets in each of its pods.
pub const JOB_INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

/// `I/N` shards: playbook k (in the given order) belongs to shard (k mod N) + 1.
#[must_use]
pub fn shard<T>(items: Vec<T>, index: usize, total: usize) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .filter(|(k, _)| total > 0 && k % total + 1 == index)
        .map(|(_, t)| t)
        .collect()
}

/// The shard this run takes (1-based `I` of `N`), from `--shard` (which wins),
/// else from the Job's index (`job_index`, the variable's value) and the
/// count; `None`: every playbook.
///
/// # Errors
/// An index without a count or a count without an index, an index that is
/// not a whole number below the count (the message says which).
pub fn chosen(
    shard: Option<(usize, usize)>,
    count: Option<usize>,
    job_index: Option<&str>,
) -> Result<Option<(usize, usize)>, String> {
    if shard.is_some() {
        return Ok(shard);
    }
    match (job_index, count) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(format!(
            "--shard-count (or SCENARIO_SHARD_COUNT) needs {JOB_INDEX_VAR}, which a Kubernetes Indexed Job sets in each pod; outside a Job, use --shard I/N"
        )),
        (Some(_), None) => Err(format!(
            "{JOB_INDEX_VAR} is set (a Kubernetes Indexed Job) but the shard count is not: pass --shard-count N or set SCENARIO_SHARD_COUNT"
        )),
        (Some(raw), Some(n)) => {
            let i: usize = raw.parse().map_err(|_| {
                format!(
                    "{JOB_INDEX_VAR}={} is not a shard index (a whole number from 0)",
                    clean_line(&excerpt(raw))
                )
            })?;
            if i >= n {
                return Err(format!(
                    "{JOB_INDEX_VAR}={i} is not below the shard count {n} (indexes run from 0 to {})",
                    n - 1
                ));
            }
            Ok(Some((i + 1, n)))
        }
    }
}

/// `--shard I/N`.
///
/// # Errors
/// Not `I/N` with 1 <= I <= N <= [`MAX_SHARDS`].
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected I/N, found `{s}`"))?;
    let (i, n) = (
        i.parse::<usize>().map_err(|e| e.to_string())?,
        n.parse::<usize>().map_err(|e| e.to_string())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(format!("`{s}`: I must be between 1 and N"));
    }
    if n > MAX_SHARDS {
        return Err(format!("`{s}`: at most {MAX_SHARDS} shards"));
    }
    Ok((i, n))
}

/// A shard count from the command line or `SCENARIO_SHARD_COUNT`.
///
/// # Errors
/// Not a whole number from 1 to [`MAX_SHARDS`].
pub fn parse_count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_SHARDS).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{}`: a shard count is a whole number from 1 to {MAX_SHARDS}",
            clean_line(&excerpt(s))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{chosen, shard};

    #[test]
    fn shards_are_complete_disjoint_and_stable() {
        let items: Vec<usize> = (0..23).collect();
        for n in 1..6 {
            let mut seen: Vec<usize> = Vec::new();
            for i in 1..=n {
                let s = shard(items.clone(), i, n);
                assert_eq!(s, shard(items.clone(), i, n), "stable");
                seen.extend(s);
            }
            seen.sort_unstable();
            assert_eq!(seen, items, "every item in exactly one of {n} shards");
        }
    }

    #[test]
    fn the_job_index_is_zero_based_and_the_flag_wins() {
        assert_eq!(chosen(None, None, None), Ok(None));
        assert_eq!(chosen(None, Some(3), Some("0")), Ok(Some((1, 3))));
        assert_eq!(chosen(None, Some(3), Some("2")), Ok(Some((3, 3))));
        assert_eq!(chosen(Some((2, 5)), Some(3), Some("0")), Ok(Some((2, 5))));
        for (count, index) in [
            (Some(3), Some("3")),
            (Some(3), Some("-1")),
            (Some(3), Some(" 1")),
            (Some(3), Some("99999999999999999999999")),
            (None, Some("0")),
            (Some(3), None),
        ] {
            assert!(chosen(None, count, index).is_err(), "{count:?} {index:?}");
        }
    }
}
