//! The probe without a cluster: HTTP probe steps and their checks against
//! local servers, servers that misbehave, mixed answers, the sequential split
//! test on simulated answers, and the mutation suite (each probe and exec
//! check fails once its expectation is changed).

#[path = "../support/mod.rs"]
mod support;

mod hostile_servers;
mod mixed_answers;
mod mutation;
mod split;
mod steps;
