import * as assert from "assert";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { recorder, valueOf } from "../support/mocks";
import { countsByType, runProgram } from "../support/program";

/** Exact registrations per type for every example stack: a wrong composition changes these. */
const EXPECTED_COUNTS: Record<string, Record<string, number>> = {
    local: { "groundwork:machines:OpenStackFoundation": 1, "groundwork:machines:OpenStackMachine": 2, "groundwork:machines:Pool": 2, "groundwork:platform:Platform": 1, "openstack:compute/instance:Instance": 2, "openstack:compute/serverGroup:ServerGroup": 1, "openstack:networking/network:Network": 1, "openstack:networking/port:Port": 2, "openstack:networking/secGroup:SecGroup": 1, "openstack:networking/secGroupRule:SecGroupRule": 9, "openstack:networking/subnet:Subnet": 1 },
    dev: { "command:local:Command": 14, "command:remote:Command": 10, "groundwork:cluster:Addons": 1, "groundwork:cluster:Cluster": 1, "groundwork:cluster:ClusterSecrets": 1, "groundwork:cluster:MachineJoin": 3, "groundwork:machines:OpenStackFoundation": 1, "groundwork:machines:OpenStackMachine": 3, "groundwork:machines:Pool": 2, "groundwork:platform:Convergence": 1, "groundwork:platform:Platform": 1, "groundwork:workloads:AnalyticsDatabase": 1, "groundwork:workloads:Queue": 1, "groundwork:workloads:StaticSite": 1, "groundwork:workloads:UserDatabase": 1, "groundwork:workloads:WebApi": 1, "groundwork:workloads:Workloads": 1, "kubernetes:apps/v1:Deployment": 2, "kubernetes:apps/v1:StatefulSet": 3, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 1, "kubernetes:batch/v1:CronJob": 2, "kubernetes:core/v1:ConfigMap": 1, "kubernetes:core/v1:Namespace": 1, "kubernetes:core/v1:PersistentVolumeClaim": 1, "kubernetes:core/v1:Secret": 4, "kubernetes:core/v1:Service": 8, "kubernetes:helm.sh/v3:Release": 3, "openstack:compute/instance:Instance": 3, "openstack:compute/keypair:Keypair": 1, "openstack:compute/serverGroup:ServerGroup": 1, "openstack:networking/port:Port": 3, "openstack:networking/secGroup:SecGroup": 1, "openstack:networking/secGroupRule:SecGroupRule": 9, "pulumi:providers:kubernetes": 1, "random:index/randomPassword:RandomPassword": 10, "tls:index/certRequest:CertRequest": 1, "tls:index/locallySignedCert:LocallySignedCert": 1, "tls:index/privateKey:PrivateKey": 3, "tls:index/selfSignedCert:SelfSignedCert": 1 },
    prod: { "command:local:Command": 46, "command:remote:Command": 38, "groundwork:cluster:Addons": 1, "groundwork:cluster:Cluster": 1, "groundwork:cluster:ClusterSecrets": 1, "groundwork:cluster:MachineJoin": 11, "groundwork:machines:OpenStackFoundation": 1, "groundwork:machines:OpenStackMachine": 11, "groundwork:machines:Pool": 3, "groundwork:platform:Convergence": 1, "groundwork:platform:Platform": 1, "groundwork:registry:Harbor": 1, "groundwork:workloads:AnalyticsDatabase": 1, "groundwork:workloads:Queue": 1, "groundwork:workloads:StaticSite": 1, "groundwork:workloads:UserDatabase": 1, "groundwork:workloads:WebApi": 1, "groundwork:workloads:Workloads": 1, "kubernetes:apps/v1:Deployment": 2, "kubernetes:apps/v1:StatefulSet": 3, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 1, "kubernetes:batch/v1:CronJob": 2, "kubernetes:batch/v1:Job": 1, "kubernetes:core/v1:ConfigMap": 2, "kubernetes:core/v1:Namespace": 2, "kubernetes:core/v1:PersistentVolumeClaim": 1, "kubernetes:core/v1:Secret": 9, "kubernetes:core/v1:Service": 8, "kubernetes:helm.sh/v3:Release": 4, "kubernetes:networking.k8s.io/v1:Ingress": 2, "kubernetes:policy/v1:PodDisruptionBudget": 3, "openstack:compute/instance:Instance": 11, "openstack:compute/keypair:Keypair": 1, "openstack:compute/serverGroup:ServerGroup": 1, "openstack:networking/port:Port": 11, "openstack:networking/secGroup:SecGroup": 1, "openstack:networking/secGroupRule:SecGroupRule": 9, "pulumi:providers:kubernetes": 1, "random:index/randomPassword:RandomPassword": 28, "tls:index/certRequest:CertRequest": 2, "tls:index/locallySignedCert:LocallySignedCert": 2, "tls:index/privateKey:PrivateKey": 5, "tls:index/selfSignedCert:SelfSignedCert": 2 },
    "customer-dc": { "command:local:Command": 26, "command:remote:Command": 30, "groundwork:cluster:Addons": 1, "groundwork:cluster:Cluster": 1, "groundwork:cluster:ClusterSecrets": 1, "groundwork:cluster:MachineJoin": 6, "groundwork:machines:BareMetalMachine": 3, "groundwork:machines:Pool": 3, "groundwork:machines:VsphereFoundation": 1, "groundwork:machines:VsphereMachine": 4, "groundwork:platform:Convergence": 1, "groundwork:platform:Platform": 1, "groundwork:registry:Standalone": 1, "groundwork:workloads:AnalyticsDatabase": 1, "groundwork:workloads:Queue": 1, "groundwork:workloads:StaticSite": 1, "groundwork:workloads:UserDatabase": 1, "groundwork:workloads:WebApi": 1, "groundwork:workloads:Workloads": 1, "kubernetes:apps/v1:Deployment": 2, "kubernetes:apps/v1:StatefulSet": 3, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 1, "kubernetes:batch/v1:CronJob": 2, "kubernetes:core/v1:ConfigMap": 2, "kubernetes:core/v1:Namespace": 2, "kubernetes:core/v1:PersistentVolumeClaim": 1, "kubernetes:core/v1:Secret": 5, "kubernetes:core/v1:Service": 8, "kubernetes:helm.sh/v3:Release": 4, "kubernetes:metallb.io/v1beta1:IPAddressPool": 1, "kubernetes:metallb.io/v1beta1:L2Advertisement": 1, "kubernetes:policy/v1:PodDisruptionBudget": 3, "pulumi:providers:kubernetes": 1, "pulumi:providers:vsphere": 1, "random:index/randomPassword:RandomPassword": 18, "tls:index/certRequest:CertRequest": 2, "tls:index/locallySignedCert:LocallySignedCert": 2, "tls:index/privateKey:PrivateKey": 5, "tls:index/selfSignedCert:SelfSignedCert": 2, "vsphere:index/virtualMachine:VirtualMachine": 4 },
};

describe("program: resource counts, outputs and secrets per example stack", () => {
    for (const [stack, expected] of Object.entries(EXPECTED_COUNTS)) {
        it(`${stack}: registers exactly the expected resources per type`, async () => {
            await runProgram(stack);
            assert.deepStrictEqual(countsByType(), expected);
        });
    }

    it("prod: certificateExpiry reports each control plane's certificates from its report, the earliest first", async () => {
        const out = await runProgram("prod");
        const expiry = (await valueOf(out.certificateExpiry)) as Record<string, { earliest: string; certificates: Record<string, string> }>;
        assert.deepStrictEqual(Object.keys(expiry).sort(), ["prod-cp-1", "prod-cp-2", "prod-cp-3"]);
        assert.deepStrictEqual(expiry["prod-cp-2"], { earliest: "2027-11-30T05:00:00Z", certificates: { "pki/apiserver.crt": "2027-12-02T06:00:00Z", "admin.conf": "2027-11-30T05:00:00Z" } });
        const report = recorder.registrations.find((r) => r.name === "prod-converge-prod-cp-2-certificates")!;
        assert.match(report.inputs.create, /groundwork-renew-certificates --report/);
        assert.match(report.inputs.environment.GROUNDWORK_BOOTSTRAP, /^[0-9a-f]{12}$/);
    });

    it("qa: kubeconfig is a secret output, no node's user-data holds a secret (so it is not hidden), registry absent", async () => {
        const out = await runProgram("qa");
        assert.strictEqual(await pulumi.isSecret(out.kubeconfig), true);
        assert.match(String(await valueOf(out.kubeconfig)), /^apiVersion: v1[\s\S]*server: https:\/\/10\.30\.0\.20:6443/);
        assert.strictEqual(out.registry, undefined);
        const servers = recorder.ofType("openstack:compute/instance:Instance");
        assert.strictEqual(servers.length, 6);
        for (const s of servers) {
            assert.deepStrictEqual(s.secretInputs, [], `${s.name}: user-data carries no join material, so it stays readable in previews`);
            // The mock's RandomPassword results are "x" × length: the token and the key derived from it.
            for (const secret of ["PRIVATE KEY", "xxxxxx.xxxxxxxxxxxxxxxx", createHash("sha256").update("x".repeat(64)).digest("hex")]) assert.ok(!s.inputs.userData.includes(secret), `${s.name}: ${secret}`);
        }
    });

    it("prod: Harbor's endpoint and CA are outputs, and every node trusts that CA and mirrors through Harbor", async () => {
        const out = await runProgram("prod");
        const reg = out.registry as unknown as { endpoint: pulumi.Output<string>; caPem: pulumi.Output<string> };
        assert.strictEqual(await valueOf(reg.endpoint), "harbor.prod.example");
        const ca = await valueOf(reg.caPem);
        assert.match(ca, /-----BEGIN CERTIFICATE-----/);
        const userData = recorder.ofType("openstack:compute/instance:Instance")[0].inputs.userData as string;
        assert.ok(userData.includes(ca.trim().split("\n")[1]), "the Harbor CA is in the node's bootstrap");
        assert.match(userData, /harbor\.prod\.example\/v2\/dockerhub/);
        assert.strictEqual(await pulumi.isSecret(out.kubeconfig), true);
    });

    for (const stack of ["dev", "prod", "customer-dc"]) {
        it(`${stack}: no file is written by two layers in any machine's bootstrap`, async () => {
            await runProgram(stack);
            const scripts = [
                ...recorder.ofType("openstack:compute/instance:Instance").map((r) => [r.name, r.inputs.userData as string]),
                ...recorder.ofType("vsphere:index/virtualMachine:VirtualMachine").map((r) => [r.name, Buffer.from(r.inputs.extraConfig["guestinfo.userdata"], "base64").toString()]),
                ...recorder.ofType("command:remote:Command").filter((r) => r.name.endsWith("-bootstrap")).map((r) => [r.name, r.inputs.stdin as string]),
            ];
            assert.ok(scripts.length > 0);
            for (const [name, script] of scripts) {
                const paths = [...script.matchAll(/gw_put '([^']+)'/g)].map((m) => m[1]);
                const twice = paths.filter((p, i) => paths.indexOf(p) !== i);
                assert.ok(paths.length >= 5, `${name}: expected the layers' files, got ${paths.length}`);
                assert.deepStrictEqual(twice, [], `${name}: written twice`);
            }
        });
    }

    it("qa: the engine part `groundwork render` previews is the one the node gets (one wiring for both)", async () => {
        await runProgram("qa");
        const delivered = recorder.ofType("openstack:compute/instance:Instance").find((r) => r.name === "qa-general-1-server")!.inputs.userData as string;
        const { renderStack } = await import("../../cli/commands/render");
        const { loadStackFile, stackFilePath } = await import("../../cli/stackfile");
        const rendered = renderStack(loadStackFile(stackFilePath("qa")).spec!).files.get("qa-general-1/user-data")!;
        // Everything up to the cluster parts is generated-value free: it must be byte-identical.
        const engineOnly = (u: string) => u.slice(0, u.indexOf("# --- kubernetes ---"));
        // The deploy key is the one deploy-time value before the cluster parts: its placeholder stands for it.
        const [deployKey] = recorder.ofType("tls:index/privateKey:PrivateKey").filter((k) => k.name.endsWith("-deploy-key"));
        assert.strictEqual(deployKey.inputs.algorithm, "ED25519");
        const deployPub = parse(delivered).users[1].ssh_authorized_keys.at(-1) as string;
        const placeholder = "@@GROUNDWORK:deploy-ssh-key@@";
        assert.ok(engineOnly(rendered).includes(`"${placeholder}"`) && !engineOnly(delivered).includes(placeholder));
        assert.ok(engineOnly(rendered).length > 1000);
        assert.strictEqual(engineOnly(delivered).split(deployPub).join(placeholder), engineOnly(rendered).replace(`"${placeholder}"`, placeholder));
        assert.match(engineOnly(delivered), /NO_PROXY=localhost,127\.0\.0\.1,\.corp\.example,10\.0\.0\.0\/8,10\.30\.0\.0\/23,10\.244\.0\.0\/16,10\.96\.0\.0\/12,\.svc,\.cluster\.local,10\.30\.0\.20"/);
    });

    it("prod: the five roles on the cluster's provider, images by their docker.io names (containerd's docker.io mirror is Harbor), the registered objects equal the dump", async () => {
        await runProgram("prod");
        const [provider] = recorder.ofType("pulumi:providers:kubernetes");
        const k8sObjects = recorder.registrations.filter((r) => r.type.startsWith("kubernetes:") && /^prod-apps-/.test(r.name));
        assert.strictEqual(k8sObjects.length, 25);
        for (const r of k8sObjects) assert.match(r.provider ?? "", new RegExp(`::${provider.name}::`), r.name);
        const pods = [...recorder.ofType("kubernetes:apps/v1:Deployment"), ...recorder.ofType("kubernetes:apps/v1:StatefulSet")].map((r) => r.inputs.spec.template.spec);
        const images = pods.flatMap((p) => [...(p.initContainers ?? []), ...p.containers].map((c: { image: string }) => c.image));
        assert.strictEqual(images.length, 6);
        // Not air-gapped: the references stay upstream; nodes resolve docker.io through Harbor's dockerhub project first.
        for (const i of images) assert.match(i, /^docker\.io\//);
        for (const p of pods) assert.strictEqual(p.topologySpreadConstraints?.[0]?.topologyKey, "kubernetes.io/hostname");
        // What `stackWorkloadObjects` dumps (for the dry-run) is what the program registers, Secrets apart.
        const { stackWorkloadObjects } = await import("../../components/platform/wiring");
        const { loadStackFile, stackFilePath } = await import("../../cli/stackfile");
        const dumped = stackWorkloadObjects(loadStackFile(stackFilePath("prod")).spec!).filter((o) => o.kind !== "Secret");
        const body = (o: Record<string, any>) => o.spec ?? o.data ?? null;
        const registered = Object.fromEntries(k8sObjects.filter((r) => !r.type.endsWith(":Secret")).map((r) => [`${r.type.split(":")[2]}/${r.inputs.metadata.name}`, body(r.inputs)]));
        assert.deepStrictEqual(registered, Object.fromEntries(dumped.map((o) => [`${o.kind}/${o.metadata.name}`, body(o)])));
    });

    it("customer-dc with upTo machines deploys no workloads", async () => {
        await runProgram("customer-dc", (c) => {
            const p = JSON.parse(c["groundwork:platform"]);
            p.upTo = "machines";
            c["groundwork:platform"] = JSON.stringify(p);
        });
        assert.deepStrictEqual(recorder.registrations.filter((r) => r.type.startsWith("groundwork:workloads") || r.type.startsWith("kubernetes:")), []);
    });

    it("local: stops after the machines layer (no cluster, no kubeconfig)", async () => {
        const out = await runProgram("local");
        assert.strictEqual(out.kubeconfig, undefined);
        assert.ok(!recorder.registrations.some((r) => r.type.startsWith("groundwork:cluster") || r.type.startsWith("kubernetes:")));
    });
});

describe("program: every example stack under mocks", () => {
    it("local: two OpenStack servers on a created network, inventory with planned addresses", async () => {
        const out = await runProgram("local");
        const counts = countsByType();
        assert.strictEqual(counts["openstack:compute/instance:Instance"], 2);
        assert.strictEqual(counts["openstack:networking/port:Port"], 2);
        assert.strictEqual(counts["openstack:networking/network:Network"], 1);
        assert.strictEqual(counts["openstack:networking/subnet:Subnet"], 1);
        assert.strictEqual(counts["openstack:compute/serverGroup:ServerGroup"], 1);
        assert.strictEqual(counts["openstack:networking/secGroup:SecGroup"], 1);
        assert.deepStrictEqual(await valueOf(out.inventory), [
            { name: "local-cp-1", role: "control-plane", address: "10.42.0.16", backend: "openstack" },
            { name: "local-general-1", role: "worker", address: "10.42.0.32", backend: "openstack" },
        ]);
        assert.strictEqual(await valueOf(out.vip), "10.42.0.10");
    });

    it("dev: an existing network is looked up, not created; the key pair comes from the first SSH key", async () => {
        const out = await runProgram("dev");
        const counts = countsByType();
        assert.strictEqual(counts["openstack:compute/instance:Instance"], 3);
        assert.strictEqual(counts["openstack:networking/network:Network"], undefined);
        assert.strictEqual(counts["openstack:compute/keypair:Keypair"], 1);
        assert.deepStrictEqual(recorder.invokes.filter((i) => i.token.includes("getNetwork")).map((i) => i.inputs.name), ["dev-net"]);
        assert.strictEqual((await valueOf(out.inventory as pulumi.Output<unknown[]>)).length, 3);
    });

    it("qa: 3 control planes in the anti-affinity server group", async () => {
        await runProgram("qa");
        const hinted = recorder.ofType("openstack:compute/instance:Instance").filter((i) => i.inputs.schedulerHints?.[0]?.group === "qa-openstack-control-plane-id");
        assert.deepStrictEqual(hinted.map((i) => i.inputs.name), ["qa-cp-1", "qa-cp-2", "qa-cp-3"]);
    });

    it("prod: 11 servers, the ingress group's flavor falls back to the backend's, the control plane's is overridden", async () => {
        await runProgram("prod");
        const servers = recorder.ofType("openstack:compute/instance:Instance");
        assert.strictEqual(servers.length, 11);
        assert.deepStrictEqual([...new Set(servers.filter((s) => s.name.startsWith("prod-cp")).map((s) => s.inputs.flavorName))], ["m1.xlarge"]);
        assert.deepStrictEqual([...new Set(servers.filter((s) => !s.name.startsWith("prod-cp")).map((s) => s.inputs.flavorName))], ["m1.large"]);
        assert.ok(servers.every((s) => s.inputs.blockDevices?.[0]?.volumeSize === 80));
        assert.deepStrictEqual([...new Set(servers.map((s) => s.inputs.metadata["groundwork:environment"]))], ["prod"]);
    });

    it("customer-dc: vSphere VMs for control plane and registry, SSH bootstrap for bare metal, secrets kept secret", async () => {
        const out = await runProgram("customer-dc");
        const counts = countsByType();
        assert.strictEqual(counts["vsphere:index/virtualMachine:VirtualMachine"], 4);
        assert.strictEqual(recorder.ofType("command:remote:Command").filter((c) => c.name.endsWith("-bootstrap")).length, 3);
        assert.strictEqual(counts["openstack:compute/instance:Instance"], undefined);
        const [provider] = recorder.ofType("pulumi:providers:vsphere");
        assert.deepStrictEqual(provider.secretInputs, ["password"]);
        assert.strictEqual(provider.inputs.password, "test-secret-for-groundwork:vspherePassword");
        // Bare metal is reached with the configured key; the vSphere VMs with the generated deploy key.
        const metal = new Set(["172.16.8.101", "172.16.8.102", "172.16.8.103"]);
        for (const cmd of recorder.ofType("command:remote:Command")) {
            if (metal.has(cmd.inputs.connection.host)) assert.strictEqual(cmd.inputs.connection.privateKey, "test-secret-for-groundwork:sshPrivateKey", cmd.name);
            else assert.match(cmd.inputs.connection.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----/, cmd.name);
            assert.ok(cmd.secretInputs.some((p) => p.startsWith("connection")));
        }
        // Each bare-metal host's reset, for when it leaves: kubeadm reset on the Kubernetes nodes, no secret in it.
        const resets = recorder.ofType("command:remote:Command").filter((c) => c.name.endsWith("-reset"));
        assert.deepStrictEqual(resets.map((c) => c.inputs.connection.host).sort(), [...metal].sort());
        for (const r of resets) {
            assert.match(r.inputs.delete, /reset of cdc-metal-0[123] starting \(reset\)/, r.name);
            assert.match(r.inputs.delete, /kubeadm reset --force --cri-socket=unix:\/\/\/run\/containerd\/containerd\.sock/, r.name);
            assert.doesNotMatch(r.inputs.delete, /@@GROUNDWORK:|PRIVATE KEY|BEGIN CERTIFICATE|test-secret/, r.name);
        }
        const inv = (await valueOf(out.inventory as pulumi.Output<{ name: string; address: string }[]>)).map((m) => `${m.name}=${m.address}`);
        assert.deepStrictEqual(inv, ["cdc-cp-1=172.16.8.16", "cdc-cp-2=172.16.8.17", "cdc-cp-3=172.16.8.18", "cdc-metal-01=172.16.8.101", "cdc-metal-02=172.16.8.102", "cdc-metal-03=172.16.8.103", "cdc-registry-1=172.16.8.24"]);
    });

    /** The bootstrap script inside a vSphere VM's cloud-init user-data. */
    const vmScript = (vm: { inputs: Record<string, any> }): string => parse(Buffer.from(vm.inputs.extraConfig["guestinfo.userdata"], "base64").toString()).write_files[0].content;
    /** What the script writes to containerd's config.toml, with its mode. */
    const containerdToml = (script: string): { mode: string; content: string } | undefined => {
        const m = /^gw_put '\/etc\/containerd\/config\.toml' (0[0-7]{3}) <<'(GROUNDWORK_EOF_*)'\n([\s\S]*?)\n\2$/m.exec(script);
        return m ? { mode: m[1], content: m[3] } : undefined;
    };
    const upTo = (value: string) => (c: Record<string, string>) => {
        const p = JSON.parse(c["groundwork:platform"]);
        p.upTo = value;
        c["groundwork:platform"] = JSON.stringify(p);
    };

    for (const level of ["all", "machines"]) {
        it(`customer-dc (upTo ${level}): every node's containerd pulls from the standalone registry with its generated password, in secret user-data`, async () => {
            await runProgram("customer-dc", upTo(level));
            const [pw] = recorder.ofType("random:index/randomPassword:RandomPassword");
            const password = "x".repeat(pw.inputs.length); // the mock's RandomPassword result
            assert.strictEqual(pw.inputs.length, 32);
            const authTable = [
                '[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.cdc.customer.example:5000".auth]',
                '  username = "groundwork"',
                `  password = "${password}"`,
            ].join("\n");
            const vms = recorder.ofType("vsphere:index/virtualMachine:VirtualMachine");
            const nodes = [
                ...vms.filter((v) => !v.name.startsWith("cdc-registry")).map((v) => ({ name: v.name, script: vmScript(v), secret: v.secretInputs.includes("extraConfig") })),
                ...recorder.ofType("command:remote:Command").filter((c) => c.name.endsWith("-bootstrap")).map((c) => ({ name: c.name, script: c.inputs.stdin as string, secret: c.secretInputs.includes("stdin") })),
            ];
            assert.strictEqual(nodes.length, 6);
            for (const n of nodes) {
                assert.ok(n.secret, `${n.name}: the bootstrap holds the registry password and must be a secret input`);
                const toml = containerdToml(n.script);
                assert.ok(toml, `${n.name}: no config.toml in the bootstrap`);
                assert.strictEqual(toml.mode, "0600", n.name);
                assert.ok(toml.content.endsWith(`\n\n${authTable}`), `${n.name}: config.toml ends with\n${toml.content.slice(-300)}`);
                assert.strictEqual(n.script.split(password).length - 1, 1, `${n.name}: the password appears once, in config.toml`);
            }
            // The registry machine runs the registry, not a node's engine: it only ever sees the bcrypt hash.
            const registryVm = vms.find((v) => v.name.startsWith("cdc-registry"))!;
            assert.ok(registryVm.secretInputs.includes("extraConfig"));
            assert.ok(!vmScript(registryVm).includes(password));
        });
    }

    it("local (no registry): config.toml has no credential and stays 0644", async () => {
        await runProgram("local");
        for (const s of recorder.ofType("openstack:compute/instance:Instance")) {
            const script = parse(s.inputs.userData as string).write_files[0].content as string;
            const toml = containerdToml(script);
            assert.strictEqual(toml?.mode, "0644", s.name);
            assert.doesNotMatch(toml!.content, /registry\.configs|password/, s.name);
        }
    });

    it("invalid config registers nothing and fails with a RunError naming the problems", async () => {
        await assert.rejects(
            runProgram("dev", (c) => {
                const p = JSON.parse(c["groundwork:platform"]);
                p.machines.controlPlane.count = 2;
                c["groundwork:platform"] = JSON.stringify(p);
            }),
            (e: Error) => e instanceof pulumi.RunError && /groundwork:platform has 1 problem; run `npx groundwork validate --stack test`/.test(e.message),
        );
        assert.strictEqual(recorder.registrations.length, 0);
    });
});
