#!/usr/bin/env python3
"""Developer-run, for scripts/apply-moto.sh's MOTO_SETUP hook: create in moto the VPC and
subnets a `network.existing` blueprint reads (as a network team would: DNS support and
hostnames on, an internet gateway routed from the public subnets), then write the blueprint
with moto's fresh ids in place of the fixture's (moto ids are random).

usage: scripts/moto-existing-vpc.py ENDPOINT FIXTURE.yaml OUT.yaml

Run again against the same moto (apply-moto.sh with MOTO_SHARED=1, a second environment in
the same VPC), it finds the VPC and subnets it made by their `infragen-fixture-id` tags
and reuses them.
"""
import ipaddress
import sys

import boto3
import yaml

endpoint, fixture, out = sys.argv[1:4]
text = open(fixture).read()
bp = yaml.safe_load(text)
net = bp["network"]
region = bp["providers"]["aws"]["region"]
ec2 = boto3.client(
    "ec2",
    endpoint_url=endpoint,
    region_name=region,
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)

def made(old):
    """The id of what a previous run made for the fixture's id `old`, if any."""
    tag = [{"Name": "tag:infragen-fixture-id", "Values": [old]}]
    kind = "Vpcs" if old.startswith("vpc-") else "Subnets"
    found = getattr(ec2, "describe_vpcs" if kind == "Vpcs" else "describe_subnets")(Filters=tag)[kind]
    return found[0]["VpcId" if kind == "Vpcs" else "SubnetId"] if found else None


def tag(resource, old):
    ec2.create_tags(Resources=[resource], Tags=[{"Key": "infragen-fixture-id", "Value": old}])


old_vpc = net["existing"]["vpc_id"]
if made(old_vpc):
    ids = {old_vpc: made(old_vpc)}
    for given in net.get("subnets", {}).values():
        for old in given:
            ids[old] = made(old)
    for old, new in ids.items():
        text = text.replace(old, new)
    open(out, "w").write(text)
    print(f"moto-existing-vpc: reusing {ids[old_vpc]} with {len(ids) - 1} subnet(s) -> {out}")
    sys.exit(0)

vpc = ec2.create_vpc(CidrBlock=net["cidr"])["Vpc"]["VpcId"]
tag(vpc, old_vpc)
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)

ids = {net["existing"]["vpc_id"]: vpc}
blocks = ipaddress.ip_network(net["cidr"]).subnets(new_prefix=24)
for tier, given in net.get("subnets", {}).items():
    for zone, old in zip(net["zones"], given):
        sub = ec2.create_subnet(VpcId=vpc, CidrBlock=str(next(blocks)), AvailabilityZone=zone)
        sid = sub["Subnet"]["SubnetId"]
        tag(sid, old)
        if tier == "public":
            ec2.associate_route_table(RouteTableId=public_rt, SubnetId=sid)
        ids[old] = sid

for old, new in ids.items():
    text = text.replace(old, new)
open(out, "w").write(text)
print(f"moto-existing-vpc: {vpc} with {len(ids) - 1} subnet(s) -> {out}")
