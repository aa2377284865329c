//! Resource types whose name the cloud keeps unique (per account and region, or per the
//! one cluster or VPC a module creates): two resources of one type with the same literal
//! name apply as far as the second create, which the API refuses (`AlreadyExists`,
//! `DBInstanceAlreadyExists`, `ResourceAlreadyExistsException`). Names scoped by something
//! that differs between the two (an inline policy's role, a database inside its cluster)
//! are not listed. With each, the most characters the API accepts in that name (the AWS
//! API reference of each resource), where derived names can outgrow it.

/// (type, argument holding its unique name, length limit), sorted by type.
const TYPES: &[(&str, &str, Option<usize>)] = &[
    ("aws_cloudwatch_event_rule", "name", Some(64)),
    ("aws_cloudwatch_log_group", "name", Some(512)),
    ("aws_cloudwatch_metric_alarm", "alarm_name", Some(255)),
    ("aws_db_instance", "identifier", Some(63)),
    ("aws_db_parameter_group", "name", Some(255)),
    ("aws_db_subnet_group", "name", Some(255)),
    ("aws_dynamodb_table", "name", Some(255)),
    ("aws_ecr_repository", "name", Some(256)),
    ("aws_ecs_cluster", "name", Some(255)),
    ("aws_ecs_service", "name", Some(255)),
    ("aws_ecs_task_definition", "family", Some(255)),
    ("aws_eks_cluster", "name", Some(100)),
    ("aws_eks_fargate_profile", "fargate_profile_name", None),
    ("aws_eks_node_group", "node_group_name", Some(63)),
    ("aws_elasticache_cluster", "cluster_id", Some(50)),
    ("aws_elasticache_parameter_group", "name", Some(255)),
    (
        "aws_elasticache_replication_group",
        "replication_group_id",
        Some(40),
    ),
    ("aws_elasticache_subnet_group", "name", Some(255)),
    ("aws_iam_instance_profile", "name", Some(128)),
    ("aws_iam_policy", "name", Some(128)),
    ("aws_iam_role", "name", Some(64)),
    ("aws_kms_alias", "name", Some(256)),
    ("aws_launch_template", "name", Some(128)),
    ("aws_lb", "name", Some(32)),
    ("aws_lb_target_group", "name", Some(32)),
    ("aws_mq_broker", "broker_name", Some(50)),
    ("aws_rds_cluster", "cluster_identifier", Some(63)),
    ("aws_s3_bucket", "bucket", Some(63)),
    ("aws_scheduler_schedule", "name", Some(64)),
    ("aws_secretsmanager_secret", "name", Some(512)),
    ("aws_security_group", "name", Some(255)),
    ("aws_service_discovery_http_namespace", "name", Some(1024)),
    ("aws_sns_topic", "name", Some(256)),
    ("aws_sqs_queue", "name", Some(80)),
    ("aws_ssm_parameter", "name", None),
    ("aws_wafv2_web_acl", "name", Some(128)),
    ("digitalocean_container_registry", "name", None),
    ("digitalocean_database_cluster", "name", None),
    ("digitalocean_kubernetes_cluster", "name", None),
    ("digitalocean_loadbalancer", "name", None),
    ("digitalocean_spaces_bucket", "name", Some(63)),
    ("digitalocean_vpc", "name", None),
];

fn entry(ty: &str) -> Option<&'static (&'static str, &'static str, Option<usize>)> {
    TYPES
        .binary_search_by(|(t, _, _)| (*t).cmp(ty))
        .ok()
        .map(|i| &TYPES[i])
}

/// The type as a `'static` name, and the argument holding its unique name, if it has one.
pub fn name_attribute(ty: &str) -> Option<(&'static str, &'static str)> {
    entry(ty).map(|(t, a, _)| (*t, *a))
}

/// The most characters the cloud accepts in that name, where it is known.
pub fn max_len(ty: &str) -> Option<usize> {
    entry(ty).and_then(|(_, _, max)| *max)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_is_sorted_for_its_binary_search() {
        assert!(super::TYPES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            super::name_attribute("aws_db_instance"),
            Some(("aws_db_instance", "identifier"))
        );
        assert_eq!(super::max_len("aws_lb"), Some(32));
        assert_eq!(super::name_attribute("aws_vpc"), None);
    }
}
