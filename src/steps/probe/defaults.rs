//! The probe's defaults and its own bounds, in one block: what a probe does
//! when its YAML does not say, and the ranges of what it may say. Limits
//! shared with the rest of scenario (most requests, concurrency, body sizes,
//! rates) are in `language/limits.rs` and docs/limits.md.

use std::time::Duration;

/// `method`.
pub const METHOD: &str = "GET";
/// The methods a probe may send.
pub const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/// `requests`.
pub const REQUESTS: u32 = 100;
/// `concurrency`.
pub const CONCURRENCY: u32 = 8;
/// `requestTimeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// `expect.status`.
pub const STATUS: &[u16] = &[200];
/// `expect.maxErrorRate`: no failed request.
pub const MAX_ERROR_RATE: f64 = 0.0;

// The split check (`expect.distribution` in the YAML).

/// `tolerance`, in percentage points.
pub const TOLERANCE: f64 = 10.0;
/// The smallest `tolerance`: a closer split needs more answers than a probe
/// may request.
pub const MIN_TOLERANCE: f64 = 0.1;
/// `tolerance` must be below this (percentage points).
pub const MAX_TOLERANCE: f64 = 50.0;
/// `falseFail`: 1e-5 per check (it costs a few answers, see `stats`).
pub const FALSE_FAIL: f64 = 1e-5;
/// `falsePass`.
pub const FALSE_PASS: f64 = 0.01;
/// The smallest `falseFail`/`falsePass`: a smaller error probability is not
/// a number the test can keep (and far below any other risk of a run).
pub const MIN_ERROR_PROBABILITY: f64 = 1e-12;
/// `falseFail`/`falsePass` must be below this.
pub const MAX_ERROR_PROBABILITY: f64 = 0.5;
/// Requests below which a split check without `eventually` is warned about
/// (see `stats`: a true 40/40/20 needs 949 answers at p99).
pub const MIN_SPLIT_REQUESTS: u32 = 1000;
/// The most categories a split's weights may have (a written mapping, or
/// one a template computes): each needs answers of its own.
pub const MAX_CATEGORIES: usize = 100;
