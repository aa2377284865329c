//! The image of the container that prepares an ECS task's volumes (`wiring::CA_WRITER`,
//! `backend::aws::sidecars::volume_setup`): one definition for the back-end that runs it and
//! the checks that judge whether a task can pull it (`semantic::private_ecs`).

use crate::blueprint::types::Blueprint;

/// The default: the Docker official BusyBox image from ECR Public (no credentials to pull,
/// reached through the NAT gateway), pinned. VPC endpoints do not serve ECR Public, so a
/// stack with `network.nat: none` names a copy in its own ECR with
/// `providers.aws.setup_image` (docs/blueprint.md "VPC endpoints").
pub const DEFAULT_SETUP_IMAGE: &str = "public.ecr.aws/docker/library/busybox:1.37.0";

/// The setup container's image: `providers.aws.setup_image`, else [`DEFAULT_SETUP_IMAGE`].
pub fn setup_image(bp: &Blueprint) -> &str {
    bp.providers
        .aws
        .as_ref()
        .and_then(|a| a.setup_image.as_deref())
        .unwrap_or(DEFAULT_SETUP_IMAGE)
}
