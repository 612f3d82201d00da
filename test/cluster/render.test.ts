import * as assert from "assert";
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import {
    caCertHash,
    clusterBillOfMaterials,
    clusterSettings,
    renderKubeadmInit,
    renderKubeadmJoin,
    renderKubeVipManifest,
    selfAssignable,
} from "../../components/cluster";
import { MachineSpec } from "../../components/machines";
import { parse, rawPlatform } from "./fixture";

const SECRETS = { bootstrapToken: "abcdef.0123456789abcdef", certificateKey: "0".repeat(64), caCertPem: "CA", caKeyPem: "KEY", caCertHash: "sha256:00" };

function setup(cluster: Record<string, unknown> = {}, engine: "containerd" | "docker" = "containerd", imageRepository?: string) {
    const spec = parse(rawPlatform("openstack", 3, 1, cluster));
    const settings = clusterSettings({ config: spec.config.cluster, clusterName: "gw", vip: spec.ipPlan.vip, engine, imageRepository, backends: ["openstack"] });
    const cp = spec.machines.find((m) => m.role === "control-plane")!;
    const worker: MachineSpec = {
        ...spec.machines.find((m) => m.role === "worker")!,
        labels: { "node.example.com/tier": "web", "node-role.kubernetes.io/worker": "" },
        taints: [{ key: "dedicated", value: "web", effect: "NoSchedule" }],
    };
    return { spec, settings, cp, worker };
}

const docsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS());

describe("kubeadm renderers", () => {
    // That every field is one kubeadm knows is kubeadm's to say: kubeadm-oracle.test.ts runs `kubeadm config validate`.
    it("init carries the pinned version, CIDRs, the VIP as SAN and the engine's cgroup driver", () => {
        const { settings, cp } = setup({ podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12" });
        const docs = docsOf(renderKubeadmInit(settings, cp, SECRETS));
        assert.deepStrictEqual(docs.map((d) => d.kind), ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]);
        const [init, cluster, kubelet] = docs;
        assert.strictEqual(init.apiVersion, "kubeadm.k8s.io/v1beta4");
        assert.strictEqual(cluster.kubernetesVersion, "v1.33.13");
        assert.deepStrictEqual(cluster.networking, { podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12", dnsDomain: "cluster.local" });
        assert.strictEqual(cluster.controlPlaneEndpoint, "10.20.0.10:6443");
        assert.deepStrictEqual(cluster.apiServer.certSANs, ["10.20.0.10"]);
        assert.strictEqual(cluster.imageRepository, "registry.k8s.io");
        // etcd and CoreDNS at the releases built here, not kubeadm v1.33's defaults (3.5.24-0, v1.12.0).
        assert.deepStrictEqual(cluster.etcd, { local: { dataDir: "/var/lib/etcd", imageTag: "3.5.21-0" } });
        assert.deepStrictEqual(cluster.dns, { imageTag: "v1.12.1" });
        assert.strictEqual(kubelet.cgroupDriver, "systemd");
        assert.strictEqual(init.certificateKey, SECRETS.certificateKey);
        assert.strictEqual(init.bootstrapTokens[0].token, SECRETS.bootstrapToken);
        assert.deepStrictEqual(init.nodeRegistration.taints, [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]);
        assert.deepStrictEqual(init.nodeRegistration.kubeletExtraArgs, [{ name: "cloud-provider", value: "external" }, { name: "node-ip", value: cp.address }]);
    });

    it("join: workers pin the CA hash and register with their taints and self-assignable labels; control planes add the certificate key", () => {
        const { settings, cp, worker } = setup();
        const [join] = docsOf(renderKubeadmJoin(settings, worker, SECRETS));
        assert.deepStrictEqual(join.discovery.bootstrapToken, { token: SECRETS.bootstrapToken, apiServerEndpoint: "10.20.0.10:6443", caCertHashes: ["sha256:00"] });
        assert.strictEqual(join.controlPlane, undefined);
        assert.deepStrictEqual(join.nodeRegistration.taints, [{ key: "dedicated", value: "web", effect: "NoSchedule" }]);
        // node-role.kubernetes.io is refused by NodeRestriction at join; the sync after join sets it.
        assert.ok(join.nodeRegistration.kubeletExtraArgs.some((a: any) => a.name === "node-labels" && a.value === "node.example.com/tier=web"));
        const [cpJoin] = docsOf(renderKubeadmJoin(settings, cp, SECRETS));
        assert.deepStrictEqual(cpJoin.controlPlane, { localAPIEndpoint: { advertiseAddress: cp.address, bindPort: 6443 }, certificateKey: SECRETS.certificateKey });
    });

    it("air-gapped: kubeadm and kube-vip pull from the internal registry; an external LB replaces the VIP", () => {
        const { settings, cp } = setup({ controlPlaneEndpoint: { mode: "external", address: "10.20.0.5", port: 443 } }, "docker", "registry.internal:5000/k8s");
        const [init, cluster] = docsOf(renderKubeadmInit(settings, cp, SECRETS));
        assert.strictEqual(cluster.imageRepository, "registry.internal:5000/k8s");
        // kubeadm pulls `<repo>/coredns:<tag>` from any repository but registry.k8s.io: keep the upstream path.
        assert.deepStrictEqual(cluster.dns, { imageRepository: "registry.internal:5000/k8s/coredns", imageTag: "v1.12.1" });
        assert.strictEqual(cluster.controlPlaneEndpoint, "10.20.0.5:443");
        assert.strictEqual(init.localAPIEndpoint.bindPort, 6443);
        assert.strictEqual(settings.kubeVip, undefined);
        const vip = clusterSettings({ config: setup().spec.config.cluster, clusterName: "gw", vip: "10.20.0.10", imageRepository: "registry.internal:5000/k8s" });
        assert.strictEqual(vip.kubeVip?.image, "ghcr.io/kube-vip/kube-vip:v0.9.1", "kube-vip is not a registry.k8s.io image");
        const mirrored = clusterSettings({ config: setup().spec.config.cluster, clusterName: "gw", vip: "10.20.0.10", kubeVipImage: "harbor.example/ghcr/kube-vip/kube-vip:v0.9.1" });
        assert.strictEqual(mirrored.kubeVip?.image, "harbor.example/ghcr/kube-vip/kube-vip:v0.9.1");
    });

    it("is deterministic: the same input renders byte-identical documents", () => {
        const a = setup();
        const b = setup();
        assert.strictEqual(renderKubeadmInit(a.settings, a.cp, SECRETS), renderKubeadmInit(b.settings, b.cp, SECRETS));
        assert.strictEqual(renderKubeadmJoin(a.settings, a.worker, SECRETS), renderKubeadmJoin(b.settings, b.worker, SECRETS));
    });

    it("kube-vip: a static pod in ARP mode for the VIP with leader election", () => {
        const pod = parseYaml(renderKubeVipManifest({ address: "10.20.0.10", port: 6443, image: "ghcr.io/kube-vip/kube-vip:v0.9.1" }));
        const env = Object.fromEntries(pod.spec.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
        assert.strictEqual(pod.kind, "Pod");
        assert.strictEqual(pod.spec.hostNetwork, true);
        assert.deepStrictEqual([env.address, env.vip_arp, env.cp_enable, env.svc_enable, env.vip_leaderelection], ["10.20.0.10", "true", "true", "false", "true"]);
        assert.deepStrictEqual(pod.spec.containers[0].securityContext.capabilities.add, ["NET_ADMIN", "NET_RAW"]);
    });

    it("caCertHash equals kubeadm's documented openssl pipeline on a real CA", () => {
        const dir = mkdtempSync(join(tmpdir(), "gw-ca-"));
        execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.crt"), "-subj", "/CN=kubernetes", "-days", "1"], { stdio: "ignore" });
        const pub = execFileSync("openssl", ["x509", "-pubkey", "-noout", "-in", join(dir, "ca.crt")]).toString();
        const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "der"], { input: pub });
        const expected = execFileSync("openssl", ["dgst", "-sha256", "-hex"], { input: der }).toString().trim().split(" ").pop();
        assert.strictEqual(caCertHash(pub), `sha256:${expected}`);
        assert.ok(readFileSync(join(dir, "ca.crt")).length > 0);
    });

    it("NodeRestriction: kubelets may set their own labels outside kubernetes.io, except the allowed few", () => {
        assert.deepStrictEqual(
            ["zone", "node.example.com/tier", "node-role.kubernetes.io/worker", "topology.kubernetes.io/zone", "node-restriction.kubernetes.io/x", "kubelet.kubernetes.io/a"].map(selfAssignable),
            [true, true, false, true, false, true],
        );
    });

    it("bill of materials: control-plane images of the pinned version, kube-vip, charts and packages", () => {
        const { spec } = setup();
        const bom = clusterBillOfMaterials(spec.config.cluster, ["openstack"]);
        assert.ok(bom.images.includes("registry.k8s.io/kube-apiserver:v1.33.13"));
        assert.ok(bom.images.includes("registry.k8s.io/etcd:3.5.21-0"));
        assert.ok(bom.images.includes("ghcr.io/kube-vip/kube-vip:v0.9.1"));
        assert.deepStrictEqual(bom.charts, ["openstack-cinder-csi@2.33.1", "openstack-cloud-controller-manager@2.33.1", "tigera-operator@v3.30.3"]);
        // cri-tools and kubernetes-cni as tools/kubernetes/build.sh builds them (cri-tools v1.33.0 is not served by the Go module proxy).
        assert.deepStrictEqual(bom.packages, ["cri-tools=1.34.0-1.1", "kubeadm=1.33.13-1.1", "kubectl=1.33.13-1.1", "kubelet=1.33.13-1.1", "kubernetes-cni=1.6.2-1.1"]);
        assert.ok(bom.images.every((i) => /:[^/]+$/.test(i) && !i.endsWith(":latest")), "every image is name:tag");
    });
});
