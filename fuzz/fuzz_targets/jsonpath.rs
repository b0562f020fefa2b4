//! JSONPath handling on arbitrary queries: validation and evaluation against
//! a Kubernetes-like object never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let doc = serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "istio-ingressgateway", "labels": {"app": "x"}},
        "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}, {"hostname": "h"}]}},
        "data": {"mode": "fast", "n": 3, "list": [1, [2, [3]], {"a": null}]},
    });
    if let Ok(q) = scenario::model::check::Compiled::new(path) {
        let _ = q.select(&doc);
    }
});
