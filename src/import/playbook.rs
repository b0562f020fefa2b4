//! The imported playbook as text: front matter, root, clusters, the steps.

use super::cx::{Cx, Step, slug};
use super::page::Page;
use super::yaml_out::{Y, block};

fn front_str(page: &Page, key: &str) -> Option<String> {
    match page.front.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn step_y(s: &Step) -> Y {
    let mut m = vec![("name", Y::s(s.name.clone()))];
    if let Some(v) = &s.section {
        m.push(("section", Y::s(v.clone())));
    }
    if let Some(v) = &s.title {
        m.push(("title", Y::s(v.clone())));
        if let Some(l) = s.level.filter(|l| *l != 2) {
            m.push(("level", Y::Int(i64::from(l))));
        }
    }
    if let Some(v) = &s.doc {
        m.push(("doc", Y::s(format!("{v}\n"))));
    }
    match s.clusters.as_slice() {
        [] => {}
        [one] => m.push(("clusters", Y::s(one.clone()))),
        many => m.push((
            "clusters",
            Y::Flow(Box::new(Y::List(
                many.iter().map(|c| Y::s(c.clone())).collect(),
            ))),
        )),
    }
    if let Some(t) = &s.timeout {
        m.push(("timeout", Y::s(t.clone())));
    }
    if !s.vars.is_empty() {
        m.push(("vars", Y::Map(s.vars.clone())));
    }
    m.push((s.action, s.body.clone()));
    let y = Y::map(m);
    match &s.note {
        Some(n) => Y::Noted(n.clone(), Box::new(y)),
        None => y,
    }
}

/// The playbook's text.
#[must_use]
pub fn write(cx: &Cx<'_>, page: &Page, stem: &str) -> String {
    let mut out = format!(
        "# Imported by `scenario import` from {}.\n# Review every exec step and every check marked `# {}`.\n",
        page.files[0].replace('\n', " "),
        super::yaml_out::PROPOSED
    );
    let title = front_str(page, "title").or_else(|| cx.title.clone());
    let name = slug(&title.clone().unwrap_or_else(|| stem.to_owned()));
    let mut top = vec![(
        "name",
        Y::s(if name.is_empty() {
            "imported".to_owned()
        } else {
            name
        }),
    )];
    if let Some(t) = title {
        top.push(("title", Y::s(t)));
    }
    if let Some(v) = front_str(page, "summary").or_else(|| front_str(page, "description")) {
        top.push(("summary", Y::s(v)));
    }
    let authors: Vec<Y> = match page
        .front
        .get("authors")
        .or_else(|| page.front.get("author"))
    {
        Some(serde_json::Value::Array(a)) => {
            a.iter().filter_map(|v| v.as_str()).map(Y::s).collect()
        }
        Some(serde_json::Value::String(s)) => vec![Y::s(s.clone())],
        _ => Vec::new(),
    };
    if !authors.is_empty() {
        top.push(("authors", Y::List(authors)));
    }
    if let Some(d) = front_str(page, "date").map(|d| d.chars().take(10).collect::<String>())
        && d.len() == 10
        && d.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
    {
        top.push(("date", Y::s(d)));
    }
    if !cx.outcomes.is_empty() {
        top.push((
            "outcomes",
            Y::List(cx.outcomes.iter().map(|o| Y::s(o.clone())).collect()),
        ));
    }
    if let Some(n) = &cx.next {
        top.push(("next", Y::s(format!("{n}\n"))));
    }
    top.push(("root", Y::s(super::cx::relative(&cx.out_dir, &cx.root))));
    if !cx.clusters.is_empty() {
        let clusters = cx
            .clusters
            .iter()
            .map(|(n, c)| (n.clone(), Y::map(vec![("context", Y::s(c.clone()))])))
            .collect();
        top.push(("clusters", Y::Map(clusters)));
    }
    top.push(("steps", Y::List(cx.steps.iter().map(step_y).collect())));
    let doc = Y::map(top);
    let mut body = String::new();
    block(&mut body, &doc, 0);
    // A blank line between steps, as playbooks are written by hand.
    out.push_str(
        &body
            .replace("\n  - name: ", "\n\n  - name: ")
            .replace("\n  # ", "\n\n  # ")
            .replace("\n\n\n", "\n\n"),
    );
    out
}
