import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { stackFilePath, stackNames } from "../../cli/stackfile";
import { runCli, writeStackFile } from "../support/cli";

type Config = Record<string, any>;
const load = (stack: string): Config => parse(fs.readFileSync(stackFilePath(stack), "utf8")).config;
const platformOf = (c: Config) => c["groundwork:platform"];

/** Each case mutates a valid stack and names the exact problem line validate must print. */
const cases: [string, string, (c: Config) => void, string][] = [
    ["wrong type for count", "dev", (c) => (platformOf(c).machines.controlPlane.count = "three"), 'platform.machines.controlPlane.count: must be a number, got "three"'],
    ["missing name", "dev", (c) => delete platformOf(c).name, "platform.name: is required (string)"],
    ["missing kubernetesVersion", "dev", (c) => delete platformOf(c).cluster.kubernetesVersion, "platform.cluster.kubernetesVersion: is required (string)"],
    ["missing network", "dev", (c) => delete platformOf(c).network, "platform.network: is required (object)"],
    ["unknown top-level key", "dev", (c) => (platformOf(c).clustr = {}), "platform.clustr: unknown key; allowed here: apps, backends, cluster, engine, environment, machines, name, network, registry, upTo"],
    ["unknown nested key", "dev", (c) => (platformOf(c).machines.workers.general.colour = "red"), "platform.machines.workers.general.colour: unknown key; allowed here: backend, count, cpus, diskGiB, exclude, flavor, hosts, labels, memoryMiB, pool, taints"],
    ["unknown groundwork key", "dev", (c) => (c["groundwork:platfrom"] = {}), "groundwork:platfrom: unknown key; groundwork reads only: groundwork:etcdSnapshotS3AccessKeyId, groundwork:etcdSnapshotS3SecretAccessKey, groundwork:openstackApplicationCredentialId, groundwork:openstackApplicationCredentialSecret, groundwork:platform, groundwork:registryTlsCert, groundwork:registryTlsKey, groundwork:sshBastionPrivateKey, groundwork:sshPrivateKey, groundwork:vspherePassword"],
    ["bad environment", "dev", (c) => (platformOf(c).environment = "staging"), 'platform.environment: must be one of "local", "dev", "qa", "prod", "customer"; got "staging"'],
    ["bad backend", "dev", (c) => (platformOf(c).machines.controlPlane.backend = "ec2"), 'platform.machines.controlPlane.backend: must be one of "openstack", "vsphere", "baremetal"; got "ec2"'],
    ["even control-plane count", "dev", (c) => (platformOf(c).machines.controlPlane.count = 2), "platform.machines.controlPlane.count: must be 1, 3 or 5 (an odd etcd quorum), got 2"],
    ["zero control planes", "dev", (c) => (platformOf(c).machines.controlPlane.count = 0), "platform.machines.controlPlane.count: must be 1, 3 or 5 (an odd etcd quorum), got 0"],
    ["seven control planes", "prod", (c) => (platformOf(c).machines.controlPlane.count = 7), "platform.machines.controlPlane.count: must be 1, 3 or 5 (an odd etcd quorum), got 7"],
    ["negative worker count", "dev", (c) => (platformOf(c).machines.workers.general.count = -1), "platform.machines.workers.general.count: must be ≥ 0, got -1"],
    ["fractional count", "dev", (c) => (platformOf(c).machines.workers.general.count = 1.5), "platform.machines.workers.general.count: must be an integer, got 1.5"],
    ["invalid CIDR", "dev", (c) => (platformOf(c).network.cidr = "10.20.0.0/33"), "platform.network.cidr: prefix length must be 0-32, got /33"],
    ["CIDR that is not an address", "dev", (c) => (platformOf(c).network.cidr = "ten.twenty/24"), 'platform.network.cidr: must be an IPv4 CIDR like 10.0.0.0/24, got "ten.twenty/24"'],
    ["overlapping pools", "dev", (c) => (platformOf(c).network.pools.workers = "10.20.0.16/28"), "platform.network.pools.workers: overlaps pool control (10.20.0.16-10.20.0.23)"],
    ["pool too small", "dev", (c) => (platformOf(c).machines.workers.general.count = 17), 'platform.machines.workers.general.count: pool "workers" (10.20.0.32-10.20.0.47) has 16 addresses; dev-general-17 needs position 17'],
    ["VIP inside a pool", "dev", (c) => (platformOf(c).network.vip = "10.20.0.33"), "platform.network.pools.workers: contains the control-plane VIP 10.20.0.33; move the VIP out of every pool"],
    ["VIP outside the subnet", "dev", (c) => (platformOf(c).network.vip = "10.99.0.10"), "platform.network.vip: 10.99.0.10 is outside the subnet 10.20.0.0/24"],
    ["gateway is the network address", "dev", (c) => (platformOf(c).network.gateway = "10.20.0.0"), "platform.network.gateway: 10.20.0.0 is the network address of 10.20.0.0/24"],
    ["pool name not defined", "dev", (c) => (platformOf(c).machines.workers.general.pool = "gpu"), 'platform.machines.workers.general.count: pool "gpu" is not defined; network.pools has: control, workers'],
    ["duplicate bare-metal names", "customer-dc", (c) => (platformOf(c).machines.workers.metal.hosts[1].name = "cdc-metal-01"), 'platform.machines.workers.metal.hosts[1]: duplicate machine name "cdc-metal-01"'],
    ["duplicate bare-metal address", "customer-dc", (c) => (platformOf(c).machines.workers.metal.hosts[2].address = "172.16.8.101"), "platform.machines.workers.metal.hosts[2]: cdc-metal-03 would get 172.16.8.101, already given to cdc-metal-01"],
    ["missing backend section", "dev", (c) => delete platformOf(c).backends.openstack, "platform.backends.openstack: is required: platform.machines.controlPlane, platform.machines.workers.general use backend openstack"],
    ["missing vSphere password secret", "customer-dc", (c) => delete c["groundwork:vspherePassword"], "platform.backends.vsphere: needs the secret groundwork:vspherePassword; set it with `pulumi config set --secret groundwork:vspherePassword`"],
    ["plaintext SSH key", "customer-dc", (c) => (c["groundwork:sshPrivateKey"] = "-----BEGIN OPENSSH PRIVATE KEY-----"), "groundwork:sshPrivateKey: must be a secret; set it with `pulumi config set --secret groundwork:sshPrivateKey`"],
    ["password inside the platform object", "customer-dc", (c) => (platformOf(c).backends.vsphere.password = "hunter2"), "platform.backends.vsphere.password: secrets do not belong in groundwork:platform; use `pulumi config set --secret groundwork:vspherePassword`"],
    ["bare metal without hosts", "customer-dc", (c) => delete platformOf(c).machines.workers.metal.hosts, "platform.machines.workers.metal.hosts: is required for backend baremetal: list each server's name and address"],
    ["VM group without pool", "dev", (c) => delete platformOf(c).machines.workers.general.pool, "platform.machines.workers.general.pool: is required for backend openstack: name a network.pools entry"],
    ["short Kubernetes version", "dev", (c) => (platformOf(c).cluster.kubernetesVersion = "1.33"), 'platform.cluster.kubernetesVersion: must be a full Kubernetes version like 1.33.5 (major.minor.patch), got "1.33"'],
    ["pod CIDR overlapping the node subnet", "dev", (c) => (platformOf(c).cluster.podCidr = "10.20.0.0/16"), "platform.cluster.podCidr: 10.20.0.0/16 overlaps platform.network.cidr 10.20.0.0/24"],
    ["service CIDR overlapping the pod CIDR", "dev", (c) => (platformOf(c).cluster.serviceCidr = "10.244.0.0/20"), "platform.cluster.serviceCidr: 10.244.0.0/20 overlaps platform.cluster.podCidr 10.244.0.0/16"],
    ["insecure registry without opt-in", "dev", (c) => (platformOf(c).engine = { insecureRegistries: ["registry.lab:5000"] }), "platform.engine.insecureRegistries: needs engine.allowInsecureRegistries: true (plain-HTTP registries are off by default)"],
    ["mirror without url", "dev", (c) => (platformOf(c).engine = { packageSource: { kind: "mirror" } }), "platform.engine.packageSource.url: is required when kind is mirror"],
    ["latest package version", "dev", (c) => (platformOf(c).engine = { packages: { containerd: "latest" } }), 'platform.engine.packages.containerd: must be a pinned version (letters, digits, . + ~ : _ -), not "latest"; got "latest"'],
    ["standalone registry without machine", "dev", (c) => (platformOf(c).registry = { mode: "standalone" }), "platform.machines.registry: is required when registry.mode is standalone"],
    ["bad engine kind", "dev", (c) => (platformOf(c).engine = { kind: "podman" }), 'platform.engine.kind: must be one of "containerd", "docker"; got "podman"'],
    ["bad taint effect", "prod", (c) => (platformOf(c).machines.workers.ingress.taints[0].effect = "Never"), 'platform.machines.workers.ingress.taints[0].effect: must be one of "NoSchedule", "PreferNoSchedule", "NoExecute"; got "Never"'],
    ["name with upper case", "dev", (c) => (platformOf(c).name = "Dev"), 'platform.name: must be lower-case letters, digits and \'-\', starting and ending with a letter or digit, at most 20 characters; got "Dev"'],
    ["admin CIDR malformed", "dev", (c) => (platformOf(c).backends.openstack.adminCidrs = ["10.1.0.0"]), 'platform.backends.openstack.adminCidrs[0]: must be an IPv4 CIDR like 10.0.0.0/24, got "10.1.0.0"'],
    ["flavor on a vSphere group", "customer-dc", (c) => (platformOf(c).machines.controlPlane.flavor = "m1.large"), "platform.machines.controlPlane.flavor: applies to backend openstack only, not vsphere"],
    ["kube-vip without VIP", "dev", (c) => delete platformOf(c).network.vip, "platform.network.vip: is required when cluster.controlPlaneEndpoint.mode is kube-vip (the default)"],
    ["unknown workload role", "dev", (c) => (platformOf(c).apps.workloads.api.role = "cache"), 'platform.apps.workloads.api.role: must be one of "static-site", "web-api", "user-db", "queue", "analytics-db"; got "cache"'],
    ["unknown workload key", "dev", (c) => (platformOf(c).apps.workloads.api.colour = "red"), "platform.apps.workloads.api.colour: unknown key; allowed here: cpuMillis, engine, image, ingressHost, memoryMiB, replicas, role, storageGiB, webServerImage"],
    ["unknown apps key", "dev", (c) => (platformOf(c).apps.replicas = 2), "platform.apps.replicas: unknown key; allowed here: ingressClass, profile, storageClass, workloads"],
    ["bad apps profile", "dev", (c) => (platformOf(c).apps.profile = "staging"), 'platform.apps.profile: must be one of "dev", "qa", "prod"; got "staging"'],
    ["queue engine on a database", "dev", (c) => (platformOf(c).apps.workloads.users.engine = "nats"), "platform.apps.workloads.users.engine: applies to role queue only, not user-db"],
    ["unknown queue engine", "dev", (c) => (platformOf(c).apps.workloads.events.engine = "kafka"), 'platform.apps.workloads.events.engine: must be one of "nats", "rabbitmq"; got "kafka"'],
    ["workload image tagged latest", "dev", (c) => (platformOf(c).apps.workloads.api.image = "docker.io/library/nginx:latest"), 'platform.apps.workloads.api.image: must be an image with a pinned tag like docker.io/library/nginx:1.28.0 (not latest); got "docker.io/library/nginx:latest"'],
    ["workload image without tag", "dev", (c) => (platformOf(c).apps.workloads.api.image = "nginx"), 'platform.apps.workloads.api.image: must be an image with a pinned tag like docker.io/library/nginx:1.28.0 (not latest); got "nginx"'],
    ["replicated PostgreSQL", "dev", (c) => (platformOf(c).apps.workloads.users.replicas = 3), "platform.apps.workloads.users.replicas: must be 1 for role user-db: one PostgreSQL primary (streaming replication needs an operator); got 3"],
    ["zero replicas", "dev", (c) => (platformOf(c).apps.workloads.api.replicas = 0), "platform.apps.workloads.api.replicas: must be ≥ 1, got 0"],
    ["fractional CPU", "dev", (c) => (platformOf(c).apps.workloads.api.cpuMillis = 0.5), "platform.apps.workloads.api.cpuMillis: must be an integer, got 0.5"],
    ["storage on a stateless role", "dev", (c) => (platformOf(c).apps.workloads.api.storageGiB = 10), "platform.apps.workloads.api.storageGiB: applies to roles user-db, queue, analytics-db only, not web-api"],
    ["ingress host without ingress class", "dev", (c) => (platformOf(c).apps.workloads.api.ingressHost = "api.dev.example"), "platform.apps.workloads.api.ingressHost: needs platform.apps.ingressClass: an Ingress is made only for a configured ingress class"],
    ["ingress host on a queue", "prod", (c) => (platformOf(c).apps.workloads.events.ingressHost = "events.prod.example"), "platform.apps.workloads.events.ingressHost: applies to roles static-site, web-api only, not queue"],
    ["workload name with upper case", "dev", (c) => (platformOf(c).apps.workloads.Api = { role: "web-api" }), 'platform.apps.workloads.Api: must be lower-case letters, digits and \'-\', starting and ending with a letter or digit, at most 40 characters; got "Api"'],
    ["stateful workloads without a storage class", "customer-dc", (c) => delete platformOf(c).apps.storageClass, "platform.apps.storageClass: is required: analytics, events, users keep data on volumes and the cluster's add-ons make no StorageClass here (only Cinder CSI on OpenStack does); name one the cluster has"],
    ["air-gapped image from an unserved registry", "customer-dc", (c) => (platformOf(c).apps.workloads.api.image = "registry.gitlab.com/acme/api:1.2.3"), "platform.apps.workloads.api.image: registry.gitlab.com/acme/api:1.2.3: the registry is air-gapped and serves docker.io, ghcr.io, quay.io, registry.k8s.io only; use an image from one of those (groundwork seed copies it in under the same path)"],
    ["config that is not a mapping", "dev", (c) => (c["groundwork:platform"] = "yes"), "platform: must be an object, got \"yes\""],
];

describe("cli: groundwork validate", () => {
    for (const stack of stackNames()) {
        it(`accepts the example stack ${stack}`, async () => {
            const r = await runCli(["validate", "--stack", stack]);
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stdout, new RegExp(`^stacks/Pulumi\\.${stack}\\.yaml: valid — `));
        });
    }

    it(`has at least 30 distinct malformed configs (${cases.length})`, () => {
        assert.ok(new Set(cases.map((c) => c[3])).size >= 30);
    });

    for (const [what, stack, mutate, expected] of cases) {
        it(`exit 2 for ${what}`, async () => {
            const config = load(stack);
            mutate(config);
            const r = await runCli(["validate", "--stack-file", writeStackFile(config)]);
            assert.strictEqual(r.code, 2);
            assert.ok(r.stderr.split("\n").includes(expected), `expected line:\n  ${expected}\ngot:\n${r.stderr}`);
            assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
        });
    }

    it("reports every problem of one file at once", async () => {
        const config = load("dev");
        platformOf(config).environment = "staging";
        platformOf(config).machines.controlPlane.backend = "ec2";
        platformOf(config).cluster.kubernetesVersion = "v1";
        const r = await runCli(["validate", "--stack-file", writeStackFile(config)]);
        assert.strictEqual(r.code, 2);
        assert.match(r.stderr, /: 3 problems\n$/);
    });

    it("rejects broken YAML, unknown stacks and unknown flags with exit 2 and one line", async () => {
        const dir = path.dirname(writeStackFile({}));
        fs.writeFileSync(path.join(dir, "broken.yaml"), "config: [unclosed\n");
        const yaml = await runCli(["validate", "--stack-file", path.join(dir, "broken.yaml")]);
        assert.strictEqual(yaml.code, 2);
        assert.match(yaml.stderr, /broken\.yaml: is not valid YAML: /);
        const unknown = await runCli(["validate", "--stack", "nope"]);
        assert.strictEqual(unknown.code, 2);
        assert.strictEqual(unknown.stderr, `groundwork validate: --stack: no stack "nope"; known stacks: ${stackNames().join(", ")}\n`);
        const flag = await runCli(["plan", "--stack", "dev", "--colour"]);
        assert.strictEqual(flag.stderr, "groundwork plan: unknown flag --colour; allowed: --stack, --stack-file, --json\n");
        const both = await runCli(["validate"]);
        assert.strictEqual(both.stderr, "groundwork validate: give exactly one of --stack NAME or --stack-file FILE\n");
    });

    it("runs as `groundwork` through the bin script with the same exit codes", () => {
        const bin = path.resolve(__dirname, "../../bin/groundwork.js");
        const ok = execFileSync(process.execPath, [bin, "validate", "--stack", "prod"], { encoding: "utf8" });
        assert.match(ok, /prod \(prod\): 3 control plane, 8 workers on openstack/);
        let code = 0;
        try {
            execFileSync(process.execPath, [bin, "validate", "--stack", "nope"], { stdio: "pipe" });
        } catch (e) {
            code = (e as { status: number }).status;
        }
        assert.strictEqual(code, 2);
    });
});
