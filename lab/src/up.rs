//! `lab up`: etcd, then an API server and a controller manager per cluster.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::binaries::{Binaries, find_binaries, install};
use crate::down::stop;
use crate::pki::{AUDIT_POLICY, pki, write_secret};
use crate::process::{alive, free_ports, log_tail, port_open, random_token, spawn};
use crate::state::{Component, LabCluster, LabError, LabState, io};

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

pub(crate) fn indent(s: &str) -> String {
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
pub(crate) fn ready(state: &LabState, c: &LabCluster) -> bool {
    crate::runtime::block_on(async {
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
    crate::runtime::install_crypto_provider();
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
