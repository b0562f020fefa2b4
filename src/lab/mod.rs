//! The local lab: real Kubernetes control planes on loopback.
//!
//! One etcd, and per cluster one kube-apiserver (its own etcd prefix and port)
//! plus one kube-controller-manager (namespace and garbage-collector
//! controllers). TLS with a generated CA, token auth, RBAC, an audit log per
//! API server, and a kubeconfig with one context per cluster. There is no
//! kubelet and no scheduler: Pods never run.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cli::LabCommand;
use crate::model::exit;

pub mod crds;

/// The install script, embedded so that `scenario lab install` works from any directory.
pub const INSTALL_SCRIPT: &str = include_str!("install.sh");

/// A lab error: what failed, and what to look at.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    Msg(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
    let what = what.into();
    move |source| LabError::Io { what, source }
}

/// One process the lab started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    pub pid: u32,
    pub log: PathBuf,
    pub port: u16,
}

/// One simulated cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabCluster {
    pub name: String,
    pub server: String,
    pub apiserver: Component,
    pub controller_manager: Option<Component>,
    pub audit_log: PathBuf,
}

/// What `up` wrote to `lab.json`: enough to find, use and stop the lab.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub ca_pem: String,
    pub admin_token: String,
    /// A token of a user with no RBAC rights (for permission tests).
    pub restricted_token: String,
    pub etcd: Component,
    pub clusters: Vec<LabCluster>,
}

impl LabState {
    /// Reads the state of a lab directory.
    ///
    /// # Errors
    /// No lab there, or an unreadable state file.
    pub fn load(dir: &Path) -> Result<LabState, LabError> {
        let path = dir.join("lab.json");
        let text = fs::read_to_string(&path).map_err(|_| {
            LabError::Msg(format!(
                "no lab in {} (run `scenario lab up`)",
                dir.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| LabError::Msg(format!("{}: {e}", path.display())))
    }

    #[must_use]
    pub fn cluster(&self, name: &str) -> Option<&LabCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    fn components(&self) -> Vec<&Component> {
        let mut v: Vec<&Component> = Vec::new();
        for c in &self.clusters {
            v.extend(c.controller_manager.iter());
        }
        v.extend(self.clusters.iter().map(|c| &c.apiserver));
        v.push(&self.etcd);
        v
    }
}

/// Default state directory: `$XDG_STATE_HOME/scenario/lab` (or `~/.local/state/...`).
#[must_use]
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("scenario/lab");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".local/state/scenario/lab")
}

/// Cache of built binaries: `$SCENARIO_LAB_CACHE`, else `$XDG_CACHE_HOME/scenario/lab`.
#[must_use]
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SCENARIO_LAB_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("scenario/lab");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/scenario/lab")
}

/// Paths of the control-plane binaries.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub etcd: PathBuf,
    pub apiserver: PathBuf,
    /// Absent with envtest assets: namespaces then never finish deleting.
    pub controller_manager: Option<PathBuf>,
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

/// Finds the binaries: `$KUBEBUILDER_ASSETS`, then the cache, then `PATH`.
#[must_use]
pub fn find_binaries() -> Option<Binaries> {
    let in_dir = |d: &Path| -> Option<Binaries> {
        let etcd = d.join("etcd");
        let api = d.join("kube-apiserver");
        (etcd.is_file() && api.is_file()).then(|| Binaries {
            etcd,
            apiserver: api,
            controller_manager: Some(d.join("kube-controller-manager")).filter(|p| p.is_file()),
        })
    };
    if let Some(d) = std::env::var_os("KUBEBUILDER_ASSETS").filter(|d| !d.is_empty())
        && let Some(b) = in_dir(Path::new(&d))
    {
        return Some(b.with_kcm_fallback());
    }
    let cached = cache_dir().join("bin");
    if cached.join("kube-apiserver").is_file() {
        let etcd = Some(cached.join("etcd"))
            .filter(|p| p.is_file())
            .or_else(|| on_path("etcd"))?;
        return Some(Binaries {
            etcd,
            apiserver: cached.join("kube-apiserver"),
            controller_manager: Some(cached.join("kube-controller-manager"))
                .filter(|p| p.is_file()),
        });
    }
    Some(Binaries {
        etcd: on_path("etcd")?,
        apiserver: on_path("kube-apiserver")?,
        controller_manager: on_path("kube-controller-manager"),
    })
}

impl Binaries {
    fn with_kcm_fallback(mut self) -> Self {
        if self.controller_manager.is_none() {
            self.controller_manager = Some(cache_dir().join("bin/kube-controller-manager"))
                .filter(|p| p.is_file())
                .or_else(|| on_path("kube-controller-manager"));
        }
        self
    }
}

/// Runs the embedded install script (apt packages, source build, cache).
///
/// # Errors
/// The script failed (its own message says which step).
pub fn install() -> Result<Binaries, LabError> {
    eprintln!(
        "lab: control-plane binaries not found; installing and building them (about 10 minutes the first time, cached in {})",
        cache_dir().display()
    );
    let status = Command::new("bash")
        .arg("-c")
        .arg(INSTALL_SCRIPT)
        .arg("scenario-lab-install")
        .env("SCENARIO_LAB_CACHE", cache_dir())
        .stdout(Stdio::null())
        .status()
        .map_err(io("cannot run bash for the lab install script"))?;
    if !status.success() {
        return Err(LabError::Msg(format!(
            "the lab install script failed ({status}); see the messages above"
        )));
    }
    find_binaries().ok_or_else(|| {
        LabError::Msg("the install script finished but the binaries are still missing".into())
    })
}

fn free_ports(n: usize) -> Result<Vec<u16>, LabError> {
    // Hold every listener until all ports are chosen, so they are distinct.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(io("cannot find a free port on 127.0.0.1"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()
        .map_err(io("cannot read a local port"))
}

/// True when something accepts connections on 127.0.0.1:port.
#[must_use]
pub fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// True when the process runs (not a zombie) and its command line mentions `marker`.
#[must_use]
pub fn alive(pid: u32, marker: &Path) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name.
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next());
    if matches!(state, Some("Z" | "X")) {
        return false;
    }
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    // Between fork and exec the command line can be empty for a moment.
    if cmdline.is_empty() {
        return true;
    }
    let marker = marker.to_string_lossy();
    String::from_utf8_lossy(&cmdline).contains(marker.as_ref())
}

fn spawn(
    name: &str,
    bin: &Path,
    args: &[String],
    log: &Path,
    port: u16,
) -> Result<Component, LabError> {
    let f = fs::File::create(log).map_err(io(format!("cannot create {}", log.display())))?;
    let f2 = f
        .try_clone()
        .map_err(io("cannot duplicate a log file handle"))?;
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(f)
        .stderr(f2)
        .process_group(0);
    // SAFETY: only async-signal-safe calls (signal, sigprocmask) between fork and exec.
    // A parent that ignores or blocks signals (shells, make, CI runners) would
    // otherwise pass that on, and the component would not stop on SIGTERM.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT] {
                libc::signal(sig, libc::SIG_DFL);
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&raw mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &raw const set, std::ptr::null_mut());
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(io(format!("cannot start {}", bin.display())))?;
    let pid = child.id();
    // Reap the process when it ends, so a stopped component never lingers as a zombie.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(Component {
        name: name.to_owned(),
        pid,
        log: log.to_path_buf(),
        port,
    })
}

/// Last lines of a log file, for crash reports.
#[must_use]
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn random_token() -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| format!("{:x}", rng.random_range(0..16u8)))
        .collect()
}

struct Pki {
    ca_pem: String,
    server_cert: String,
    server_key: String,
    sa_key: String,
    sa_pub: String,
}

fn pki() -> Result<Pki, LabError> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    let e = |x: rcgen::Error| LabError::Msg(format!("cannot generate lab certificates: {x}"));
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "scenario-lab-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(e)?).map_err(e)?;
    let server_key = KeyPair::generate().map_err(e)?;
    let mut sp = CertificateParams::new(vec![
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
        "kubernetes.default.svc".to_owned(),
    ])
    .map_err(e)?;
    sp.distinguished_name
        .push(DnType::CommonName, "scenario-lab-apiserver");
    sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    sp.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let server_cert = sp.signed_by(&server_key, &ca).map_err(e)?;
    let sa = KeyPair::generate().map_err(e)?;
    Ok(Pki {
        ca_pem: ca.pem(),
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
        sa_key: sa.serialize_pem(),
        sa_pub: sa.public_key_pem(),
    })
}

fn write_secret(path: &Path, text: &str) -> Result<(), LabError> {
    let mut f = fs::File::create(path).map_err(io(format!("cannot write {}", path.display())))?;
    let _ = f.set_permissions(fs::Permissions::from_mode(0o600));
    f.write_all(text.as_bytes())
        .map_err(io(format!("cannot write {}", path.display())))
}

const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
";

/// Starts a lab with the given clusters in `dir`. When the lab already runs
/// there, returns its state and `false`.
///
/// # Errors
/// Missing binaries that cannot be installed, a component that does not start
/// (with the tail of its log).
pub fn up(dir: &Path, clusters: &[String]) -> Result<(LabState, bool), LabError> {
    if let Ok(state) = LabState::load(dir) {
        let dead: Vec<&Component> = state
            .components()
            .into_iter()
            .filter(|c| !alive(c.pid, dir))
            .collect();
        if dead.is_empty() {
            // It may still be starting (another `up` running): wait until it answers.
            for c in &state.clusters {
                wait_ready(&state, c)?;
            }
            return Ok((state, false));
        }
        let mut msg = format!("a lab in {} is partly down:", dir.display());
        for c in dead {
            let _ = write!(
                msg,
                "\n  {} (pid {}) is not running; last log lines:\n{}",
                c.name,
                c.pid,
                indent(&log_tail(&c.log, 10))
            );
        }
        msg.push_str("\nrun `scenario lab down` first");
        return Err(LabError::Msg(msg));
    }
    if clusters.is_empty() {
        return Err(LabError::Msg("at least one cluster name is needed".into()));
    }
    for c in clusters {
        if c.is_empty() || !c.chars().all(|x| x.is_ascii_alphanumeric() || x == '-') {
            return Err(LabError::Msg(format!(
                "invalid cluster name `{c}`: use letters, digits and `-`"
            )));
        }
    }
    let bins = match find_binaries() {
        Some(b) => b,
        None => install()?,
    };
    fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    let dir = dir
        .canonicalize()
        .map_err(io("cannot resolve the lab directory"))?;
    let pki_dir = dir.join("pki");
    fs::create_dir_all(&pki_dir).map_err(io("cannot create the pki directory"))?;
    let pki = pki()?;
    fs::write(pki_dir.join("ca.crt"), &pki.ca_pem).map_err(io("cannot write ca.crt"))?;
    fs::write(pki_dir.join("apiserver.crt"), &pki.server_cert)
        .map_err(io("cannot write apiserver.crt"))?;
    write_secret(&pki_dir.join("apiserver.key"), &pki.server_key)?;
    write_secret(&pki_dir.join("sa.key"), &pki.sa_key)?;
    fs::write(pki_dir.join("sa.pub"), &pki.sa_pub).map_err(io("cannot write sa.pub"))?;
    let admin_token = random_token();
    let restricted_token = random_token();
    write_secret(
        &dir.join("tokens.csv"),
        &format!(
            "{admin_token},admin,admin,system:masters\n{restricted_token},restricted,restricted\n"
        ),
    )?;
    fs::write(dir.join("audit-policy.yaml"), AUDIT_POLICY)
        .map_err(io("cannot write the audit policy"))?;

    let ports = free_ports(2 + clusters.len())?;
    let (etcd_port, peer_port) = (ports[0], ports[1]);
    let etcd_url = format!("http://127.0.0.1:{etcd_port}");
    let etcd = spawn(
        "etcd",
        &bins.etcd,
        &[
            "--name".into(),
            "lab".into(),
            "--data-dir".into(),
            dir.join("etcd").to_string_lossy().into_owned(),
            "--listen-client-urls".into(),
            etcd_url.clone(),
            "--advertise-client-urls".into(),
            etcd_url.clone(),
            "--listen-peer-urls".into(),
            format!("http://127.0.0.1:{peer_port}"),
            "--initial-advertise-peer-urls".into(),
            format!("http://127.0.0.1:{peer_port}"),
            "--initial-cluster".into(),
            format!("lab=http://127.0.0.1:{peer_port}"),
        ],
        &dir.join("etcd.log"),
        etcd_port,
    )?;
    let mut state = LabState {
        dir: dir.clone(),
        kubeconfig: dir.join("kubeconfig"),
        ca_pem: pki.ca_pem.clone(),
        admin_token,
        restricted_token,
        etcd,
        clusters: Vec::new(),
    };
    // Save early so that `down` can clean up whatever started, even on failure.
    let save = |state: &LabState| -> Result<(), LabError> {
        let json = serde_json::to_string_pretty(state).map_err(|e| LabError::Msg(e.to_string()))?;
        write_secret(&dir.join("lab.json"), &json)
    };
    save(&state)?;
    let result = start_clusters(&mut state, &bins, clusters, &ports[2..], &etcd_url, &save);
    if let Err(e) = result {
        let _ = stop(&state);
        let _ = fs::remove_dir_all(&dir);
        return Err(e);
    }
    Ok((state, true))
}

fn start_clusters(
    state: &mut LabState,
    bins: &Binaries,
    clusters: &[String],
    ports: &[u16],
    etcd_url: &str,
    save: &dyn Fn(&LabState) -> Result<(), LabError>,
) -> Result<(), LabError> {
    let dir = state.dir.clone();
    wait_until(Duration::from_secs(30), &state.etcd, &dir, || {
        port_open(state.etcd.port)
    })?;
    for (name, port) in clusters.iter().zip(ports) {
        let cdir = dir.join(name);
        fs::create_dir_all(cdir.join("certs")).map_err(io("cannot create a cluster directory"))?;
        let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
        let args: Vec<String> = vec![
            format!("--etcd-servers={etcd_url}"),
            format!("--etcd-prefix=/{name}"),
            format!("--secure-port={port}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--cert-dir={}", cdir.join("certs").display()),
            format!("--tls-cert-file={}", p("pki/apiserver.crt")),
            format!("--tls-private-key-file={}", p("pki/apiserver.key")),
            format!("--token-auth-file={}", p("tokens.csv")),
            "--authorization-mode=RBAC".into(),
            "--service-account-issuer=https://kubernetes.default.svc".into(),
            format!("--service-account-key-file={}", p("pki/sa.pub")),
            format!("--service-account-signing-key-file={}", p("pki/sa.key")),
            "--service-cluster-ip-range=10.0.0.0/24".into(),
            "--insecure-port=0".into(),
            format!("--audit-policy-file={}", p("audit-policy.yaml")),
            format!("--audit-log-path={}", cdir.join("audit.log").display()),
            "--audit-log-maxsize=100".into(),
        ];
        let api = spawn(
            &format!("kube-apiserver ({name})"),
            &bins.apiserver,
            &args,
            &cdir.join("apiserver.log"),
            *port,
        )?;
        state.clusters.push(LabCluster {
            name: name.clone(),
            server: format!("https://127.0.0.1:{port}"),
            apiserver: api,
            controller_manager: None,
            audit_log: cdir.join("audit.log"),
        });
        save(state)?;
    }
    write_kubeconfig(state)?;
    for i in 0..state.clusters.len() {
        let c = state.clusters[i].clone();
        wait_ready(state, &c)?;
        if let Some(kcm) = &bins.controller_manager {
            let cdir = dir.join(&c.name);
            let kc = cdir.join("controller-manager.kubeconfig");
            write_secret(
                &kc,
                &kubeconfig_text(state, std::slice::from_ref(&c), false),
            )?;
            let comp = spawn(
                &format!("kube-controller-manager ({})", c.name),
                kcm,
                &[
                    format!("--kubeconfig={}", kc.display()),
                    "--controllers=namespace,garbagecollector".into(),
                    "--leader-elect=false".into(),
                    "--port=0".into(),
                    "--secure-port=0".into(),
                ],
                &cdir.join("controller-manager.log"),
                0,
            )?;
            state.clusters[i].controller_manager = Some(comp);
            save(state)?;
        }
    }
    // The controller managers must survive their first seconds (flag errors show up at once).
    std::thread::sleep(Duration::from_millis(500));
    for c in &state.clusters {
        if let Some(k) = &c.controller_manager
            && !alive(k.pid, &dir)
        {
            return Err(crashed(k));
        }
    }
    Ok(())
}

fn crashed(c: &Component) -> LabError {
    LabError::Msg(format!(
        "{} exited; last lines of {}:\n{}",
        c.name,
        c.log.display(),
        indent(&log_tail(&c.log, 15))
    ))
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn wait_until(
    timeout: Duration,
    c: &Component,
    dir: &Path,
    mut ok: impl FnMut() -> bool,
) -> Result<(), LabError> {
    let start = Instant::now();
    loop {
        if ok() {
            return Ok(());
        }
        if !alive(c.pid, dir) {
            return Err(crashed(c));
        }
        if start.elapsed() > timeout {
            return Err(LabError::Msg(format!(
                "{} did not become ready within {}s; last lines of {}:\n{}",
                c.name,
                timeout.as_secs(),
                c.log.display(),
                indent(&log_tail(&c.log, 15))
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Blocking GET of /readyz with the admin token and the lab CA.
fn ready(state: &LabState, c: &LabCluster) -> bool {
    crate::block_on(async {
        let Ok(cert) = reqwest::Certificate::from_pem(state.ca_pem.as_bytes()) else {
            return false;
        };
        let Ok(client) = reqwest::Client::builder()
            .tls_certs_only([cert])
            .timeout(Duration::from_secs(2))
            .build()
        else {
            return false;
        };
        client
            .get(format!("{}/readyz", c.server))
            .bearer_auth(&state.admin_token)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
}

fn wait_ready(state: &LabState, c: &LabCluster) -> Result<(), LabError> {
    crate::install_crypto_provider();
    wait_until(Duration::from_secs(90), &c.apiserver, &state.dir, || {
        ready(state, c)
    })
}

fn kubeconfig_text(state: &LabState, clusters: &[LabCluster], restricted: bool) -> String {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(state.ca_pem.as_bytes());
    let mut s = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for c in clusters {
        let _ = write!(
            s,
            "  - name: {}\n    cluster:\n      server: {}\n      certificate-authority-data: {ca}\n",
            c.name, c.server
        );
    }
    s.push_str("users:\n");
    let _ = write!(
        s,
        "  - name: admin\n    user:\n      token: {}\n",
        state.admin_token
    );
    if restricted {
        let _ = write!(
            s,
            "  - name: restricted\n    user:\n      token: {}\n",
            state.restricted_token
        );
    }
    s.push_str("contexts:\n");
    for c in clusters {
        let _ = write!(
            s,
            "  - name: {0}\n    context:\n      cluster: {0}\n      user: admin\n",
            c.name
        );
        if restricted {
            let _ = write!(
                s,
                "  - name: restricted@{0}\n    context:\n      cluster: {0}\n      user: restricted\n",
                c.name
            );
        }
    }
    if let Some(first) = clusters.first() {
        let _ = writeln!(s, "current-context: {}", first.name);
    }
    s
}

fn write_kubeconfig(state: &LabState) -> Result<(), LabError> {
    write_secret(
        &state.kubeconfig,
        &kubeconfig_text(state, &state.clusters, true),
    )
}

fn kill(pid: u32, sig: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a pid we started and checked is alive; no memory is touched.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Stops every component of the lab (controller managers, API servers, etcd).
///
/// # Errors
/// A process that survives SIGKILL or a port that stays open.
pub fn stop(state: &LabState) -> Result<Vec<String>, LabError> {
    let mut stopped = Vec::new();
    let comps = state.components();
    // Clients first, then the API servers, then etcd: each stage stops quickly
    // when nothing is connected to it any more.
    let kcms: Vec<&Component> = state
        .clusters
        .iter()
        .filter_map(|c| c.controller_manager.as_ref())
        .collect();
    let apis: Vec<&Component> = state.clusters.iter().map(|c| &c.apiserver).collect();
    for stage in [kcms, apis, vec![&state.etcd]] {
        for c in &stage {
            if alive(c.pid, &state.dir) {
                kill(c.pid, libc::SIGTERM);
                stopped.push(format!("{} (pid {})", c.name, c.pid));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for c in &stage {
            while alive(c.pid, &state.dir) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(25));
            }
            if alive(c.pid, &state.dir) {
                tracing::warn!("{} ignored SIGTERM for 10s; sending SIGKILL", c.name);
                kill(c.pid, libc::SIGKILL);
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    let survivors: Vec<String> = comps
        .iter()
        .filter(|c| alive(c.pid, &state.dir))
        .map(|c| c.name.clone())
        .collect();
    if !survivors.is_empty() {
        return Err(LabError::Msg(format!(
            "still running after SIGKILL: {}",
            survivors.join(", ")
        )));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let ports: Vec<u16> = comps.iter().map(|c| c.port).filter(|p| *p != 0).collect();
    while ports.iter().any(|p| port_open(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let open: Vec<String> = ports
        .iter()
        .filter(|p| port_open(**p))
        .map(ToString::to_string)
        .collect();
    if !open.is_empty() {
        return Err(LabError::Msg(format!(
            "ports still open after stopping the lab: {}",
            open.join(", ")
        )));
    }
    Ok(stopped)
}

/// Stops the lab in `dir` and removes its state.
///
/// # Errors
/// As [`stop`]; no lab in `dir`.
pub fn down(dir: &Path) -> Result<Vec<String>, LabError> {
    let state = LabState::load(dir)?;
    let stopped = stop(&state)?;
    fs::remove_dir_all(dir).map_err(io(format!("cannot remove {}", dir.display())))?;
    Ok(stopped)
}

/// One line per component: running or not (with log tail when not).
#[must_use]
pub fn status_text(state: &LabState) -> (String, bool) {
    let mut out = String::new();
    let mut healthy = true;
    let mut line = |c: &Component, extra: &str| {
        let up = alive(c.pid, &state.dir);
        healthy &= up;
        let _ = writeln!(
            out,
            "  {:<40} pid {:<8} {}{extra}",
            c.name,
            c.pid,
            if up { "running" } else { "NOT RUNNING" }
        );
        if !up {
            let _ = writeln!(out, "{}", indent(&log_tail(&c.log, 10)));
        }
    };
    line(&state.etcd, &format!("  127.0.0.1:{}", state.etcd.port));
    for c in &state.clusters {
        let r = if alive(c.apiserver.pid, &state.dir) && ready(state, c) {
            "  ready"
        } else {
            ""
        };
        line(&c.apiserver, &format!("  {}{r}", c.server));
        if let Some(k) = &c.controller_manager {
            line(k, "");
        }
    }
    (out, healthy)
}

/// `scenario lab ...`
pub fn cli(cmd: LabCommand) -> i32 {
    crate::install_crypto_provider();
    let result = match cmd {
        LabCommand::Install => match find_binaries() {
            Some(b) if b.controller_manager.is_some() => {
                println!(
                    "lab binaries present: {}",
                    b.apiserver
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                );
                Ok(exit::OK)
            }
            _ => install().map(|b| {
                println!("lab binaries ready: {}", b.apiserver.display());
                exit::OK
            }),
        },
        LabCommand::Up { clusters, dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            up(&dir, &clusters).map(|(state, started)| {
                if started {
                    println!("lab is up in {}", state.dir.display());
                } else {
                    println!(
                        "lab is already up in {} (nothing to do)",
                        state.dir.display()
                    );
                }
                for c in &state.clusters {
                    println!("  {:<12} {}  context {}", c.name, c.server, c.name);
                }
                println!("kubeconfig: {}", state.kubeconfig.display());
                println!("  export KUBECONFIG={}", state.kubeconfig.display());
                if let Some(c) = state.clusters.first() {
                    println!("  kubectl --context {} get namespaces", c.name);
                }
                exit::OK
            })
        }
        LabCommand::Down { dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            if !dir.join("lab.json").exists() {
                println!("no lab in {} (nothing to do)", dir.display());
                return exit::OK;
            }
            down(&dir).map(|stopped| {
                println!(
                    "lab is down: stopped {} process{}; removed {}",
                    stopped.len(),
                    if stopped.len() == 1 { "" } else { "es" },
                    dir.display()
                );
                exit::OK
            })
        }
        LabCommand::Status { dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            match LabState::load(&dir) {
                Err(_) => {
                    println!("no lab in {}", dir.display());
                    return exit::STEP_ERROR;
                }
                Ok(state) => {
                    let (text, healthy) = status_text(&state);
                    println!(
                        "lab in {} ({})",
                        dir.display(),
                        if healthy { "up" } else { "DEGRADED" }
                    );
                    print!("{text}");
                    println!("kubeconfig: {}", state.kubeconfig.display());
                    Ok(if healthy { exit::OK } else { exit::STEP_ERROR })
                }
            }
        }
        LabCommand::Crds { dir } => {
            let dir = dir.unwrap_or_else(default_dir);
            LabState::load(&dir)
                .and_then(|state| crds::install_blocking(&state))
                .map(|lines| {
                    for l in lines {
                        println!("{l}");
                    }
                    exit::OK
                })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: lab: {e}");
            exit::STEP_ERROR
        }
    }
}
