import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { BackendKind } from "../../components/machines";
import { CHARTS } from "../../components/cluster/versions";
import { recorder, valueOf } from "../support/mocks";
import { buildCluster, parse, rawPlatform, settleAll } from "./fixture";

const BACKENDS: BackendKind[] = ["openstack", "vsphere", "baremetal"];
const RELEASE = "kubernetes:helm.sh/v3:Release";
const COMMAND = "command:local:Command";

function releases(): string[] {
    return recorder.ofType(RELEASE).map((r) => `${r.inputs.chart}@${r.inputs.version}`).sort();
}

describe("Cluster under mocks", () => {
    for (const backend of BACKENDS) {
        for (const cps of [1, 3]) {
            it(`${backend}: ${cps} control plane(s) + 2 workers: one API wait, one node sync per machine, add-ons for the backend`, async () => {
                const built = buildCluster(parse(rawPlatform(backend, cps, 2)));
                await settleAll();
                const commands = recorder.ofType(COMMAND);
                const waits = commands.filter((c) => c.name === "gw-api-ready");
                assert.strictEqual(waits.length, 1);
                assert.strictEqual(waits[0].inputs.environment.GROUNDWORK_ENDPOINT, "https://10.20.0.10:6443");
                const syncs = commands.filter((c) => c.name.startsWith("gw-node-")).map((c) => c.inputs.environment.GROUNDWORK_NODE).sort();
                assert.deepStrictEqual(syncs, built.machines.map((m) => m.name).sort());
                assert.strictEqual(syncs.length, cps + 2);

                const expected = { openstack: ["openstack-cinder-csi@2.33.1", "openstack-cloud-controller-manager@2.33.1"], vsphere: ["vsphere-cpi@1.33.0", "vsphere-csi@3.8.0"], baremetal: ["metallb@0.15.2"] }[backend];
                assert.deepStrictEqual(releases(), ["tigera-operator@v3.30.3", ...expected].sort());
                for (const r of recorder.ofType(RELEASE)) assert.ok(r.provider?.includes("pulumi:providers:kubernetes::gw-k8s"), `${r.name} uses the cluster provider`);
                assert.strictEqual(recorder.ofType("kubernetes:batch/v1:CronJob").length, 1);
                if (backend === "baremetal") {
                    const pool = recorder.registrations.find((r) => r.inputs.kind === "IPAddressPool");
                    assert.deepStrictEqual(pool?.inputs.spec.addresses, ["10.20.9.0-10.20.9.15"]);
                }

                // Exactly one machine runs kubeadm init; only it places the CA key, from its join material (never from user-data).
                const scripts = new Map<string, string>();
                for (const [name, b] of built.bootstraps) scripts.set(name, await valueOf(b.script));
                const inits = [...scripts].filter(([, s]) => s.includes("kubeadm init --config"));
                assert.deepStrictEqual(inits.map(([n]) => n), [built.machines[0].name]);
                for (const m of built.machines) {
                    const s = scripts.get(m.name)!;
                    assert.strictEqual(s.includes("/etc/kubernetes/pki/ca.key"), m === built.machines[0], m.name);
                    assert.doesNotMatch(s, /PRIVATE KEY/, m.name);
                    assert.strictEqual(s.includes("kube-vip.yaml"), m.role === "control-plane", m.name);
                }
            });
        }
    }

    it("vSphere CSI: the release sets every image the chart runs to the bill of materials' (hand-checked), so the chart's defaults never decide", async () => {
        buildCluster(parse(rawPlatform("vsphere", 1, 1)));
        await settleAll();
        const csi = recorder.ofType(RELEASE).find((r) => r.inputs.chart === "vsphere-csi")!;
        const v = csi.inputs.values;
        const img = (registry: string, repository: string, tag: string) => ({ registry, repository, tag });
        assert.deepStrictEqual(v.global, { config: { existingSecret: "vsphere-config-secret" } });
        assert.deepStrictEqual(v.controller, {
            image: img("registry.k8s.io", "csi-vsphere/driver", "v3.5.0"),
            syncer: { image: img("registry.k8s.io", "csi-vsphere/syncer", "v3.5.0") },
            attacher: { image: img("registry.k8s.io", "sig-storage/csi-attacher", "v4.8.1") },
            provisioner: { image: img("registry.k8s.io", "sig-storage/csi-provisioner", "v4.0.1") },
            resizer: { image: img("registry.k8s.io", "sig-storage/csi-resizer", "v1.12.0") },
            snapshotter: { image: img("registry.k8s.io", "sig-storage/csi-snapshotter", "v8.2.0") },
            livenessprobe: { image: img("registry.k8s.io", "sig-storage/livenessprobe", "v2.15.0") },
        });
        assert.deepStrictEqual(v.node, {
            image: img("registry.k8s.io", "csi-vsphere/driver", "v3.5.0"),
            registrar: { image: img("registry.k8s.io", "sig-storage/csi-node-driver-registrar", "v2.13.0") },
            livenessprobe: { image: img("registry.k8s.io", "sig-storage/livenessprobe", "v2.15.0") },
        });
        // The bill of materials lists exactly those images, once each.
        assert.deepStrictEqual(CHARTS.vsphereCsi.images, [
            "registry.k8s.io/csi-vsphere/driver:v3.5.0",
            "registry.k8s.io/csi-vsphere/syncer:v3.5.0",
            "registry.k8s.io/sig-storage/csi-attacher:v4.8.1",
            "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0",
            "registry.k8s.io/sig-storage/csi-provisioner:v4.0.1",
            "registry.k8s.io/sig-storage/csi-resizer:v1.12.0",
            "registry.k8s.io/sig-storage/csi-snapshotter:v8.2.0",
            "registry.k8s.io/sig-storage/livenessprobe:v2.15.0",
        ]);
    });

    it("keeps every join token, certificate key, CA key, deploy key and kubeconfig secret; user-data holds none of them", async () => {
        const built = buildCluster(parse(rawPlatform("openstack", 3, 1)));
        await settleAll();
        const s = built.secrets;
        const tokens = Object.fromEntries(built.cluster.joins.map((j, i) => [`token-${i}`, j.token]));
        for (const [what, o] of Object.entries({ ...tokens, certificateKey: s.certificateKey, caKey: s.caKeyPem, deployKey: s.deployPrivateKey, kubeconfig: s.adminKubeconfig, clusterKubeconfig: built.cluster.kubeconfig })) {
            assert.strictEqual(await pulumi.isSecret(o as pulumi.Output<string>), true, what);
        }
        // Nothing secret is left in user-data, so it is not hidden from a preview either.
        for (const [name, b] of built.bootstraps) assert.strictEqual(await pulumi.isSecret(pulumi.output(b.userData)), false, name);
        for (const server of recorder.ofType("openstack:compute/instance:Instance")) assert.deepStrictEqual(server.secretInputs, [], server.name);
        const key = recorder.ofType(COMMAND).find((c) => c.name === "gw-node-gw-cp-1")!;
        assert.ok(key.secretInputs.includes("environment"), "the node sync's client key arrives as a secret");
        for (const j of built.cluster.joins) assert.match(await valueOf(j.token), /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        assert.match(await valueOf(s.certificateKey), /^[0-9a-f]{64}$/);
    });

    it("makes the CA, certificate key and deploy key before any machine and signs the kubeconfig with the same CA", async () => {
        const built = buildCluster(parse(rawPlatform("openstack", 1, 1)));
        await settleAll();
        const names = recorder.registrations.map((r) => r.name);
        const firstServer = names.findIndex((n) => n.endsWith("-server"));
        for (const n of ["gw-secrets-ca", "gw-secrets-certificate-key", "gw-secrets-deploy-key"]) assert.ok(names.indexOf(n) >= 0 && names.indexOf(n) < firstServer, n);
        const signed = recorder.ofType("tls:index/locallySignedCert:LocallySignedCert")[0];
        assert.strictEqual(signed.inputs.caCertPem, await valueOf(built.secrets.caCertPem));
        const csr = recorder.ofType("tls:index/certRequest:CertRequest")[0];
        assert.deepStrictEqual(csr.inputs.subject, { commonName: "groundwork-admin", organization: "system:masters" });
        const kubeconfig = await valueOf(built.cluster.kubeconfig);
        assert.match(kubeconfig, /server: https:\/\/10\.20\.0\.10:6443/);
        assert.ok(kubeconfig.includes(Buffer.from(await valueOf(built.secrets.caCertPem)).toString("base64")));
    });

    it("cilium replaces calico, an OCI chart repository replaces every upstream repository", async () => {
        buildCluster(parse(rawPlatform("baremetal", 1, 1, { cni: { kind: "cilium" }, chartRepository: "oci://harbor.example.com/charts" })));
        await settleAll();
        assert.deepStrictEqual(releases(), ["oci://harbor.example.com/charts/cilium@1.18.2", "oci://harbor.example.com/charts/metallb@0.15.2"]);
        for (const r of recorder.ofType(RELEASE)) assert.strictEqual(r.inputs.repositoryOpts, undefined);
    });

    it("refuses an even number of control planes with the exact message", async () => {
        const spec = parse(rawPlatform("openstack", 3, 1));
        const two = { ...spec, machines: spec.machines.filter((m) => m.name !== "gw-cp-3") };
        assert.throws(() => buildCluster(two), (e: Error) => e.message === "cluster gw is not valid:\nmachines.controlPlane: must be 1, 3 or 5 control-plane machines (an odd etcd quorum), got 2");
    });
});
