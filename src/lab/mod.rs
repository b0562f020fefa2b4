use crate::cli::LabCommand; pub fn cli(_c: LabCommand) -> i32 { 2 }
