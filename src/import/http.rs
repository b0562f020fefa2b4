//! HTTP clients (`curl`, HTTPie's `http`/`https`, `wget`) and opening a page in
//! the reader's browser (`open`, `xdg-open`) as probes: one request, or N in a
//! loop of N; `| jq .path` becomes an extracted value.

use super::cx::{Cmd, Cx};
use super::emit::{exec, push, step};
use super::words::Word;
use super::yaml_out::Y;

/// A request read from a command line.
#[derive(Debug, Default)]
struct Request {
    url: Option<Word>,
    method: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<String>,
    insecure: bool,
    json: Vec<(String, String)>,
}

fn curl(cmd: &Cmd) -> Result<Request, String> {
    let mut r = Request::default();
    let mut args = cmd.argv.iter().skip(1);
    while let Some(w) = args.next() {
        let t = w.concrete().unwrap_or_else(|| w.template());
        let mut value = || {
            args.next()
                .map(|v| v.concrete().unwrap_or_else(|| v.template()))
        };
        match t.as_str() {
            "-X" | "--request" => r.method = value(),
            "-H" | "--header" => {
                if let Some((k, v)) = value().as_deref().and_then(|h| h.split_once(':')) {
                    r.headers.push((k.trim().to_owned(), v.trim().to_owned()));
                }
            }
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--json" => {
                r.body = value();
                if t == "--json" {
                    r.headers
                        .push(("Content-Type".into(), "application/json".into()));
                }
            }
            "-k" | "--insecure" => r.insecure = true,
            "-I" | "--head" => r.method = Some("HEAD".into()),
            "-u" | "--user" | "-E" | "--cert" | "--cacert" | "--resolve" | "--connect-to"
            | "-x" | "--proxy" => {
                return Err(format!(
                    "curl {t}: credentials, certificates or routing a probe does not set"
                ));
            }
            "-o" | "--output" | "-w" | "--write-out" | "-m" | "--max-time"
            | "--connect-timeout" | "-A" | "--user-agent" => {
                let _ = value();
            }
            s if s.starts_with('-') => {}
            _ if r.url.is_none() => r.url = Some(w.clone()),
            _ => return Err("curl with several URLs".into()),
        }
    }
    Ok(r)
}

fn httpie(cmd: &Cmd) -> Result<Request, String> {
    let mut r = Request::default();
    for w in cmd.argv.iter().skip(1) {
        let t = w.concrete().unwrap_or_else(|| w.template());
        if t.starts_with('-') {
            if t == "--verify=no" {
                r.insecure = true;
            }
            continue;
        }
        if r.url.is_none()
            && r.method.is_none()
            && t.chars().all(|c| c.is_ascii_uppercase())
            && !t.is_empty()
        {
            r.method = Some(t);
        } else if r.url.is_none() {
            r.url = Some(w.clone());
        } else if let Some((k, v)) = t.split_once(":=") {
            r.json.push((k.to_owned(), v.to_owned()));
        } else if let Some((k, v)) = t.split_once('=') {
            r.json
                .push((k.to_owned(), serde_json::to_string(v).unwrap_or_default()));
        } else if let Some((k, v)) = t.split_once(':') {
            r.headers.push((k.to_owned(), v.to_owned()));
        }
    }
    if !r.json.is_empty() {
        let fields: Vec<String> = r
            .json
            .iter()
            .map(|(k, v)| format!("{}: {v}", serde_json::to_string(k).unwrap_or_default()))
            .collect();
        r.body = Some(format!("{{{}}}", fields.join(", ")));
        r.method.get_or_insert_with(|| "POST".to_owned());
        r.headers
            .push(("Content-Type".into(), "application/json".into()));
    }
    Ok(r)
}

fn url_template(w: &Word, https: bool) -> String {
    let t = w.template();
    let bare = t.strip_prefix("{% raw %}").unwrap_or(&t);
    if bare.starts_with("http://") || bare.starts_with("https://") {
        t
    } else if let Some(rest) = t.strip_prefix(':') {
        format!("http://localhost:{rest}")
    } else if https {
        format!("https://{t}")
    } else {
        format!("http://{t}")
    }
}

/// Maps an HTTP client or browser command (and the filters piped after it).
pub fn map(cx: &mut Cx<'_>, cmd: &Cmd, rest: Option<&[Cmd]>) {
    let program = cmd.program();
    let read = match program.as_str() {
        "curl" => curl(cmd),
        "http" | "https" => httpie(cmd),
        _ => Ok(Request {
            url: cmd
                .argv
                .iter()
                .skip(1)
                .find(|w| !w.concrete().is_some_and(|t| t.starts_with('-')))
                .cloned(),
            ..Request::default()
        }),
    };
    let r = match read {
        Ok(r) if r.url.is_some() => r,
        Ok(_) => return exec(cx, &cmd.text, &cmd.at, &format!("{program} without a URL")),
        Err(why) => return exec(cx, &cmd.text, &cmd.at, &why),
    };
    let url_word = r.url.clone().unwrap_or_default();
    let browser = matches!(program.as_str(), "open" | "xdg-open");
    if browser && url_word.concrete().is_some_and(|u| !u.contains("://")) {
        return exec(cx, &cmd.text, &cmd.at, "opens a file, not a page: no probe");
    }
    let url = url_template(&url_word, program == "https");
    let requests = cx.repeat.as_ref().map_or(1, |(n, _)| *n);
    let mut body = vec![("url", Y::s(url.clone()))];
    if let Some(m) = r.method.filter(|m| m != "GET") {
        body.push(("method", Y::s(m)));
    }
    if !r.headers.is_empty() {
        body.push((
            "headers",
            Y::Map(
                r.headers
                    .into_iter()
                    .map(|(k, v)| (k, Y::s(super::words::escape(&v))))
                    .collect(),
            ),
        ));
    }
    if let Some(b) = r.body {
        body.push(("body", Y::s(super::words::escape(&b))));
    }
    body.push(("requests", Y::Int(i64::try_from(requests).unwrap_or(1))));
    if r.insecure {
        body.push(("tls", Y::flow(vec![("insecureSkipVerify", Y::Bool(true))])));
    }
    let mut why = if browser {
        "opens the page in the reader's browser: a probe of that URL (what the page says the reader sees is what to check)".to_owned()
    } else if requests > 1 {
        format!("{program} in a loop of {requests}: a probe of {requests} requests")
    } else {
        format!("{program}: a probe of 1 request")
    };
    if let Some(filter) = rest.and_then(|r| r.first()) {
        if filter.program() == "jq" {
            if let Some(path) = super::kubectl_pipe::jq_path(&filter.args()) {
                let name = path
                    .rsplit('.')
                    .next()
                    .unwrap_or("value")
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>();
                let name = if name.is_empty() {
                    "value".to_owned()
                } else {
                    name
                };
                body.push(("extract", Y::map(vec![(name.as_str(), Y::s(path))])));
                why.push_str("; `| jq` extracts the value");
            }
        } else {
            why.push_str(&format!(
                "; `| {}` filters what the reader sees",
                filter.program()
            ));
        }
    }
    let mut s = step("probe", Y::map(body), cmd);
    s.name = if browser {
        "open".to_owned()
    } else {
        "call".to_owned()
    };
    let idx = push(cx, s, &cmd.text, &why);
    super::checks::probed(cx, idx, &url);
}
