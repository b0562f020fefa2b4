//! Formatters of the result tree for people and tools while a run goes:
//! terminal (live or plain, its spinners and bars in `progress.rs`), JSON
//! Lines, and the closing summary.

pub mod jsonl;
pub mod progress;
pub mod summary;
pub mod terminal;
