//! Formatters of the result tree for people and tools while a run goes:
//! terminal (live or plain), JSON Lines, and the closing summary.

pub mod jsonl;
pub mod summary;
pub mod terminal;
