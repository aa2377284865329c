//! Resource types whose name the cloud keeps unique (per account and region, or per the
//! one cluster or VPC a module creates): two resources of one type with the same literal
//! name apply as far as the second create, which the API refuses (`AlreadyExists`,
//! `DBInstanceAlreadyExists`, `ResourceAlreadyExistsException`). Names scoped by something
//! that differs between the two (an inline policy's role, a database inside its cluster)
//! are not listed.

/// The argument holding the unique name of a resource of type `ty`, if it has one.
pub fn name_attribute(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "aws_db_instance" => "identifier",
        "aws_rds_cluster" => "cluster_identifier",
        "aws_elasticache_replication_group" => "replication_group_id",
        "aws_elasticache_cluster" => "cluster_id",
        "aws_s3_bucket" => "bucket",
        "aws_ecs_task_definition" => "family",
        "aws_cloudwatch_metric_alarm" => "alarm_name",
        "aws_eks_node_group" => "node_group_name",
        "aws_eks_fargate_profile" => "fargate_profile_name",
        "aws_mq_broker" => "broker_name",
        "aws_db_parameter_group"
        | "aws_db_subnet_group"
        | "aws_elasticache_parameter_group"
        | "aws_elasticache_subnet_group"
        | "aws_secretsmanager_secret"
        | "aws_ecs_service"
        | "aws_ecs_cluster"
        | "aws_cloudwatch_log_group"
        | "aws_iam_role"
        | "aws_iam_policy"
        | "aws_iam_instance_profile"
        | "aws_lb"
        | "aws_lb_target_group"
        | "aws_ecr_repository"
        | "aws_sqs_queue"
        | "aws_sns_topic"
        | "aws_dynamodb_table"
        | "aws_ssm_parameter"
        | "aws_kms_alias"
        | "aws_security_group"
        | "aws_launch_template"
        | "aws_scheduler_schedule"
        | "aws_cloudwatch_event_rule"
        | "aws_wafv2_web_acl"
        | "aws_eks_cluster"
        | "digitalocean_database_cluster"
        | "digitalocean_kubernetes_cluster"
        | "digitalocean_vpc"
        | "digitalocean_spaces_bucket"
        | "digitalocean_container_registry"
        | "digitalocean_loadbalancer" => "name",
        _ => return None,
    })
}

/// The most characters the cloud accepts in that name (the AWS and DigitalOcean API
/// references of each resource), for the types whose derived names can outgrow it.
pub fn max_len(ty: &str) -> Option<usize> {
    Some(match ty {
        "aws_lb" | "aws_lb_target_group" => 32,
        "aws_elasticache_replication_group" => 40,
        "aws_elasticache_cluster" | "aws_mq_broker" => 50,
        "aws_db_instance"
        | "aws_rds_cluster"
        | "aws_s3_bucket"
        | "aws_eks_node_group"
        | "digitalocean_spaces_bucket" => 63,
        "aws_iam_role" | "aws_scheduler_schedule" | "aws_cloudwatch_event_rule" => 64,
        "aws_sqs_queue" => 80,
        "aws_eks_cluster" => 100,
        "aws_iam_policy"
        | "aws_iam_instance_profile"
        | "aws_launch_template"
        | "aws_wafv2_web_acl" => 128,
        "aws_db_parameter_group"
        | "aws_db_subnet_group"
        | "aws_elasticache_parameter_group"
        | "aws_elasticache_subnet_group"
        | "aws_ecs_service"
        | "aws_ecs_cluster"
        | "aws_ecs_task_definition"
        | "aws_dynamodb_table"
        | "aws_security_group"
        | "aws_cloudwatch_metric_alarm" => 255,
        "aws_ecr_repository" | "aws_sns_topic" | "aws_kms_alias" => 256,
        "aws_secretsmanager_secret" | "aws_cloudwatch_log_group" => 512,
        _ => return None,
    })
}
