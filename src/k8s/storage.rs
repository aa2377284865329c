//! The StorageClass of in-cluster databases (`k8s/cluster/storage-classes.yaml`), where the
//! platform's Terraform does not create it: the platform's CSI driver with
//! `reclaimPolicy: Retain`, so deleting a claim (a StatefulSet removed and its claims
//! pruned, a namespace deleted by mistake) releases the volume instead of destroying the
//! data. Released volumes stay billed until an operator deletes or re-binds them.

use super::yaml::map;
use super::{Ctx, Files};

pub fn lower<'c>(ctx: &'c Ctx, files: &mut Files<'c>) {
    let (Some(name), Some(provisioner)) = (
        &ctx.opts.database_storage_class,
        &ctx.opts.database_storage_provisioner,
    ) else {
        return;
    };
    if !ctx.data.iter().any(|d| d.part == "databases") {
        return;
    }
    files.at("k8s/cluster/storage-classes.yaml").push(map! {
        "apiVersion" => "storage.k8s.io/v1",
        "kind" => "StorageClass",
        "metadata" => ctx.cluster_meta(name.as_str()),
        "provisioner" => provisioner.as_str(),
        "reclaimPolicy" => "Retain",
        "allowVolumeExpansion" => true,
        "volumeBindingMode" => "WaitForFirstConsumer",
    });
}
