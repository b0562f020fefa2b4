//! `kubectl kustomize DIR`: at validation and for the chapter page
//! ([`build`], blocking, at most 30 s, absent kubectl is not an error) and
//! at run time ([`build_for_run`], async, kubectl required).

use std::path::Path;
use std::time::{Duration, Instant};

/// How long a build at validation may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds a kustomize directory with `kubectl kustomize`, so that a broken
/// one is found before anything runs. `Ok(None)`: kubectl is not on PATH
/// (the build is left to the run, and `plan` says so).
///
/// # Errors
/// What kubectl said, or that it did not finish within 30 s.
pub fn build(dir: &Path) -> Result<Option<String>, String> {
    let child = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot run kubectl: {e}")),
    };
    // Read both pipes while waiting, so that a large output cannot block kubectl.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = std::io::Read::read_to_end(&mut p, &mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > BUILD_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("it did not finish within 30 s".to_owned());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if status.success() {
        Ok(Some(String::from_utf8_lossy(&out).into_owned()))
    } else {
        let err = String::from_utf8_lossy(&err);
        Err(crate::language::limits::excerpt(&kubectl_message(&err)))
    }
}

/// Builds `dir` (written `shown` in the playbook) for a step that runs now.
///
/// # Errors
/// kubectl is missing, cannot start, or fails (the message says which).
pub async fn build_for_run(dir: &Path, shown: &str) -> Result<String, String> {
    let output = tokio::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!("`kustomize: {shown}` needs kubectl on PATH (kubectl kustomize renders the directory)")
            } else {
                format!("cannot run kubectl kustomize: {e}")
            }
        })?;
    if !output.status.success() {
        return Err(format!(
            "kubectl kustomize {shown} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The message of a kubectl error, without klog's prefix
/// (`E1126 03:05:02.19 123 run.go:72] "command failed" err="..."`) or `Error: `.
fn kubectl_message(stderr: &str) -> String {
    let line = stderr.trim().lines().last().unwrap_or_default();
    if let Some((_, err)) = line.split_once(" err=\"") {
        return err.trim_end_matches('"').replace("\\\"", "\"");
    }
    line.trim_start_matches("error: ")
        .trim_start_matches("Error: ")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use crate::tools::kustomize::kubectl_message;

    #[test]
    fn kubectl_messages_lose_their_prefixes() {
        assert_eq!(
            kubectl_message(
                "E1126 03:05:02.19 123 run.go:72] \"command failed\" err=\"missing \\\"base\\\" directory\"\n"
            ),
            "missing \"base\" directory"
        );
        assert_eq!(
            kubectl_message("noise\nError: no such dir\n"),
            "no such dir"
        );
        assert_eq!(kubectl_message("error: bad\n"), "bad");
        assert_eq!(kubectl_message(""), "");
    }
}
