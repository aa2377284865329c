//! EKS node pools scale between `min` and `max` as they do on DOKS: the output installs the
//! Cluster Autoscaler when a pool can change size, wired so that it can find and scale those
//! groups — the cluster name it discovers by is the cluster's, its service account is the one
//! its IAM role trusts, the role may scale the groups EKS tags for this cluster, its image is
//! built for the cluster's Kubernetes minor, and the node groups leave `desired_size` to it.

use infragen::Provider;
use serde_json::Value;

use crate::connections::NEW_USER;
use crate::support::{resources, root, synth, synth_aws};

/// The values document of a `helm_release` body.
fn values(release: &Value) -> Value {
    serde_json::from_str(release["values"][0].as_str().unwrap()).unwrap()
}

/// The one resource of type `ty` named `name` in `terraform/<module>`.
fn resource(out: &infragen::Output, module: &str, kind: &str, ty: &str, name: &str) -> Value {
    let prefix = format!("terraform/{module}/");
    out.files
        .iter()
        .filter(|(p, _)| p.starts_with(&prefix))
        .find_map(|(_, t)| {
            let doc: Value = serde_json::from_str(t).unwrap();
            doc.pointer(&format!("/{kind}/{ty}/{name}")).cloned()
        })
        .unwrap_or_else(|| panic!("no {kind} {ty}.{name} in terraform/{module}"))
}

fn autoscaler(out: &infragen::Output) -> Option<Value> {
    resources(out, "platform", "helm_release")
        .into_iter()
        .find(|r| r["chart"] == "cluster-autoscaler")
}

#[test]
fn a_pool_that_can_grow_gets_an_autoscaler_that_can_scale_it() {
    let out = synth_aws("shop", NEW_USER).unwrap();
    let release = autoscaler(&out).expect("a cluster-autoscaler release");
    let v = values(&release);
    let cluster = resource(&out, "infra", "resource", "aws_eks_cluster", "main");
    let name = cluster["name"].as_str().unwrap();

    // Discovery: by the tag EKS puts on the cluster's managed node groups' Auto Scaling groups.
    assert_eq!(v["cloudProvider"], "aws");
    assert_eq!(v["autoDiscovery"]["clusterName"], name);
    // The region is given: pods cannot reach the instance metadata service (hop limit 1).
    assert_eq!(v["awsRegion"], "eu-west-1");
    assert_eq!(release["namespace"], "kube-system");

    // The image of the cluster's Kubernetes minor.
    let version = cluster["version"].as_str().unwrap();
    let tag = v["image"]["tag"].as_str().unwrap();
    assert!(
        tag.starts_with(&format!("v{version}.")),
        "image {tag} for Kubernetes {version}"
    );

    // Identity: the role the release's service account names is the one `infra` creates, and
    // that role trusts exactly this service account.
    let sa = v["rbac"]["serviceAccount"]["name"].as_str().unwrap();
    assert_eq!(
        v["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"],
        "${data.aws_iam_role.cluster_autoscaler.arn}"
    );
    let lookup = resource(
        &out,
        "platform",
        "data",
        "aws_iam_role",
        "cluster_autoscaler",
    );
    let role = resource(
        &out,
        "infra",
        "resource",
        "aws_iam_role",
        "cluster_autoscaler",
    );
    assert_eq!(lookup["name"], role["name"]);
    let trust = role["assume_role_policy"].as_str().unwrap();
    assert!(
        trust.contains(&format!("system:serviceaccount:kube-system:{sa}\"")),
        "{trust}"
    );

    // Permissions: scale only the groups tagged for this cluster, and read what it needs to.
    let policy = resource(
        &out,
        "infra",
        "resource",
        "aws_iam_role_policy",
        "cluster_autoscaler",
    );
    let policy: Value = serde_json::from_str(policy["policy"].as_str().unwrap()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let allows = |action: &str| {
        statements.iter().find(|s| {
            s["Action"] == action
                || s["Action"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == action))
        })
    };
    let scale = allows("autoscaling:SetDesiredCapacity").expect("SetDesiredCapacity");
    assert_eq!(
        scale["Condition"]["StringEquals"]
            [format!("aws:ResourceTag/k8s.io/cluster-autoscaler/{name}")],
        "owned"
    );
    assert!(allows("autoscaling:TerminateInstanceInAutoScalingGroup").is_some());
    for read in [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeTags",
        "ec2:DescribeLaunchTemplateVersions",
        "eks:DescribeNodegroup",
    ] {
        assert!(allows(read).is_some(), "{read}");
    }

    // Terraform leaves the groups' size to it.
    for group in resources(&out, "infra", "aws_eks_node_group") {
        let ignored = group["lifecycle"]["ignore_changes"].as_array().unwrap();
        assert!(
            ignored
                .iter()
                .any(|x| x == "scaling_config[0].desired_size")
        );
    }
    // Installed after the Load Balancer Controller, whose webhook admits Services.
    assert!(
        release["depends_on"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "helm_release.aws_load_balancer_controller")
    );
}

#[test]
fn pools_of_a_fixed_size_and_fargate_get_none() {
    let fixed = NEW_USER.replace(
        "{ name: general, size: medium, min: 2, max: 4 }",
        "{ name: general, size: medium, min: 3, max: 3 }",
    );
    assert_ne!(fixed, NEW_USER);
    let out = synth_aws("shop", &fixed).unwrap();
    assert!(autoscaler(&out).is_none());
    assert!(
        resources(&out, "infra", "aws_iam_role")
            .iter()
            .all(|r| !r["name"].as_str().unwrap().ends_with("cluster-autoscaler"))
    );
    let fargate = synth(
        &root().join("blueprints/case-eks-fargate.yaml"),
        Provider::Aws,
        "production",
    );
    assert!(autoscaler(&fargate).is_none());
}

/// Every shipped EKS blueprint whose pools can grow gets it; none is told its pools keep
/// their size (the warning of the versions before the autoscaler).
#[test]
fn shipped_blueprints_scale_their_node_pools() {
    for env in ["production", "staging", "development"] {
        let out = synth(
            &root().join("blueprints/ecommerce-eks.yaml"),
            Provider::Aws,
            env,
        );
        assert!(autoscaler(&out).is_some(), "{env}");
        assert!(
            out.notes.iter().all(|n| !n.text.contains("desired size")),
            "{env}"
        );
    }
}
