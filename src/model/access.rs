//! What a step needs of a cluster's API, known before the run: the verbs on each
//! kind, in one namespace or in all. `scenario rbac` turns these into the
//! least-privilege Roles and ClusterRoles of a playbook (docs/kubernetes.md).

use std::collections::BTreeMap;

/// One need of a step on one cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Verbs on objects of a kind. `namespace: None` when the objects are
    /// cluster-scoped or their namespace is not known before the run (a
    /// template of a capture, or the context's default namespace).
    Objects {
        api_version: String,
        kind: String,
        namespace: Option<String>,
        verbs: &'static [&'static str],
    },
    /// A CustomResourceDefinition the step applies: how later uses of its kind
    /// are named in RBAC (its plural and scope); the pre-flight reads CRDs to
    /// wait for it to be established.
    Defines {
        group: String,
        kind: String,
        plural: String,
        namespaced: bool,
    },
    /// A need that cannot be known before the run (a kind from a template,
    /// a command of `exec`): `scenario rbac` prints it as a warning.
    Unknown(String),
}

/// Verbs of each kind of work, in the order RBAC lists them.
pub mod verbs {
    /// Server-side apply: read the live object (what is new), then PATCH it;
    /// the API server authorizes a PATCH that makes a new object as a create.
    pub const APPLY: &[&str] = &["get", "create", "patch"];
    /// Read, delete, then watch until gone; selectors list.
    pub const DELETE: &[&str] = &["get", "list", "watch", "delete"];
    /// Read the live object, then PATCH it.
    pub const PATCH: &[&str] = &["get", "patch"];
    /// A watch: the initial list, then the watch.
    pub const WATCH: &[&str] = &["list", "watch"];
    /// A list (by name through a field selector, or by labels).
    pub const LIST: &[&str] = &["list"];
}

impl Access {
    /// Verbs on the objects of a manifest object or a resource selector; a
    /// namespace that holds a placeholder or a template is not known.
    #[must_use]
    pub fn objects(
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        verbs: &'static [&'static str],
    ) -> Access {
        let unknown = |s: &str| s.contains('<') || s.contains("{{") || s.trim().is_empty();
        if unknown(api_version) || unknown(kind) {
            return Access::Unknown(format!(
                "{} of `{api_version} {kind}`: the kind is known only at run time",
                verbs.join(", ")
            ));
        }
        Access::Objects {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.filter(|n| !unknown(n)).map(str::to_owned),
            verbs,
        }
    }

    /// Verbs on what a resource selector of a step selects.
    #[must_use]
    pub fn of(r: &crate::model::resource::Resource, verbs: &'static [&'static str]) -> Access {
        Access::objects(&r.api_version, &r.kind, r.namespace.as_deref(), verbs)
    }
}

/// How RBAC names a kind: its API group, its resource (plural) and whether it
/// lives in namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacName {
    pub group: String,
    pub resource: String,
    pub namespaced: bool,
    /// The plural was guessed from the kind (not built in, not defined by
    /// the playbook): the output says so.
    pub guessed: bool,
}

trait ScopeIs {
    const NAMESPACED: bool;
}
impl ScopeIs for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}
impl ScopeIs for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

fn entry<R>() -> (&'static str, &'static str, &'static str, bool)
where
    R: k8s_openapi::Resource,
    R::Scope: ScopeIs,
{
    (R::GROUP, R::KIND, R::URL_PATH_SEGMENT, R::Scope::NAMESPACED)
}

/// Built-in kinds a tutorial's steps touch, from k8s-openapi's own tables.
fn built_in() -> Vec<(&'static str, &'static str, &'static str, bool)> {
    use k8s_openapi::api::{apps, batch, core, networking, policy, rbac};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
    vec![
        entry::<core::v1::ConfigMap>(),
        entry::<core::v1::Secret>(),
        entry::<core::v1::Service>(),
        entry::<core::v1::ServiceAccount>(),
        entry::<core::v1::Pod>(),
        entry::<core::v1::Namespace>(),
        entry::<core::v1::Endpoints>(),
        entry::<core::v1::PersistentVolumeClaim>(),
        entry::<core::v1::PersistentVolume>(),
        entry::<core::v1::Node>(),
        entry::<core::v1::Event>(),
        entry::<core::v1::LimitRange>(),
        entry::<core::v1::ResourceQuota>(),
        entry::<apps::v1::Deployment>(),
        entry::<apps::v1::StatefulSet>(),
        entry::<apps::v1::DaemonSet>(),
        entry::<apps::v1::ReplicaSet>(),
        entry::<batch::v1::Job>(),
        entry::<batch::v1::CronJob>(),
        entry::<networking::v1::Ingress>(),
        entry::<networking::v1::IngressClass>(),
        entry::<networking::v1::NetworkPolicy>(),
        entry::<policy::v1::PodDisruptionBudget>(),
        entry::<rbac::v1::Role>(),
        entry::<rbac::v1::RoleBinding>(),
        entry::<rbac::v1::ClusterRole>(),
        entry::<rbac::v1::ClusterRoleBinding>(),
        entry::<apiextensions::v1::CustomResourceDefinition>(),
    ]
}

/// Names kinds for RBAC: built-in kinds, then the CRDs the playbook defines,
/// then a guess (kubectl's: the kind in lower case made plural).
#[derive(Debug, Default)]
pub struct RbacNames {
    defined: BTreeMap<(String, String), (String, bool)>,
}

impl RbacNames {
    #[must_use]
    pub fn new(needs: &[Access]) -> Self {
        let mut defined = BTreeMap::new();
        for a in needs {
            if let Access::Defines {
                group,
                kind,
                plural,
                namespaced,
            } = a
            {
                defined.insert((group.clone(), kind.clone()), (plural.clone(), *namespaced));
            }
        }
        RbacNames { defined }
    }

    #[must_use]
    pub fn name(&self, api_version: &str, kind: &str) -> RbacName {
        let group = api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_owned();
        if let Some((_, _, plural, namespaced)) = built_in()
            .into_iter()
            .find(|(g, k, _, _)| *g == group && *k == kind)
        {
            return RbacName {
                group,
                resource: plural.to_owned(),
                namespaced,
                guessed: false,
            };
        }
        if let Some((plural, namespaced)) = self.defined.get(&(group.clone(), kind.to_owned())) {
            return RbacName {
                group,
                resource: plural.clone(),
                namespaced: *namespaced,
                guessed: false,
            };
        }
        RbacName {
            group,
            resource: guess_plural(kind),
            namespaced: true,
            guessed: true,
        }
    }
}

/// A resource guessed from a kind, for kinds nobody defines here: the kind in
/// lower case made plural as English does (kubectl's own guess stops at
/// `s`/`y`, which makes `VirtualMesh` `virtualmeshs`; Gloo Mesh says `virtualmeshes`).
fn guess_plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_kinds_are_named_from_the_api_tables() {
        let names = RbacNames::default();
        let cm = names.name("v1", "ConfigMap");
        assert_eq!(
            (cm.group.as_str(), cm.resource.as_str()),
            ("", "configmaps")
        );
        assert!(cm.namespaced && !cm.guessed);
        let ns = names.name("v1", "Namespace");
        assert!(!ns.namespaced);
        let crd = names.name("apiextensions.k8s.io/v1", "CustomResourceDefinition");
        assert_eq!(crd.resource, "customresourcedefinitions");
        assert!(!crd.namespaced);
    }

    #[test]
    fn defined_kinds_win_over_a_guess_and_guesses_are_marked() {
        let names = RbacNames::new(&[Access::Defines {
            group: "networking.mesh.gloo.solo.io".into(),
            kind: "TrafficPolicy".into(),
            plural: "trafficpolicies".into(),
            namespaced: true,
        }]);
        let tp = names.name("networking.mesh.gloo.solo.io/v1", "TrafficPolicy");
        assert_eq!(tp.resource, "trafficpolicies");
        assert!(!tp.guessed);
        let g = names.name("networking.istio.io/v1beta1", "Gateway");
        assert_eq!((g.resource.as_str(), g.guessed), ("gateways", true));
        assert_eq!(guess_plural("Policy"), "policies");
        assert_eq!(guess_plural("Gateway"), "gateways");
        assert_eq!(guess_plural("Ingress"), "ingresses");
        assert_eq!(guess_plural("VirtualMesh"), "virtualmeshes");
        assert_eq!(guess_plural("Gateway"), "gateways");
    }

    #[test]
    fn templated_namespaces_are_unknown() {
        let a = Access::objects("v1", "ConfigMap", Some("<ns>"), verbs::LIST);
        assert!(matches!(
            a,
            Access::Objects {
                namespace: None,
                ..
            }
        ));
        assert!(matches!(
            Access::objects("{{ v }}", "ConfigMap", None, verbs::LIST),
            Access::Unknown(_)
        ));
    }
}
