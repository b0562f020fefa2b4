//! SHA-256 digests of the files a playbook reads (the playbook and its
//! manifest files): the JSON report records them, so that a merge and the
//! history can tell one version of a playbook from another.

use std::fmt::Write as _;

/// The SHA-256 of `bytes`, as 64 lowercase hex digits.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut s = String::with_capacity(64);
    for b in d.as_ref() {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// One file read and its digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileDigest {
    /// The path as shown (relative to the working directory when possible).
    pub path: String,
    pub sha256: String,
}

/// The digest of a playbook: the SHA-256 of the lines `SHA256  PATH\n`
/// (as `sha256sum` prints them) of its files, the playbook first, the others
/// sorted and each once. Renaming a file or changing one byte changes it.
#[must_use]
pub fn combined(files: &[FileDigest]) -> String {
    let mut text = String::new();
    for f in files {
        let _ = writeln!(text, "{}  {}", f.sha256, f.path);
    }
    sha256_hex(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::{FileDigest, combined, sha256_hex};

    #[test]
    fn digests_are_sha256_as_sha256sum_prints_them() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let f = |p: &str, t: &[u8]| FileDigest {
            path: p.into(),
            sha256: sha256_hex(t),
        };
        let one = combined(&[f("p.yaml", b"a"), f("m.yaml", b"b")]);
        assert_ne!(one, combined(&[f("p.yaml", b"a"), f("m.yaml", b"c")]));
        assert_ne!(one, combined(&[f("p.yaml", b"a"), f("n.yaml", b"b")]));
        assert_eq!(one, combined(&[f("p.yaml", b"a"), f("m.yaml", b"b")]));
    }
}
