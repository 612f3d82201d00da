import * as assert from "assert";
import { BootstrapPart } from "../../components/engine/bootstrap";
import { engineConfig } from "../../components/engine/config";
import { engineParts } from "../../components/engine/engines";
import { CA_DIR, caFileName } from "../../components/engine/render-host";
import { clusterConfig } from "../../components/cluster/config";
import { clusterParts, PATHS } from "../../components/cluster/parts";
import { clusterSettings } from "../../components/cluster/settings";
import { KUBE_VIP_IMAGE } from "../../components/cluster/versions";
import { MachineSpec } from "../../components/machines/machine";
import { registryConfig } from "../../components/registry/config";
import { clusterRegistryWiring, engineWithRegistry, imageThroughRegistry, registryEndpoint, upstreamHost } from "../../components/registry/endpoint";

const CA_A = "-----BEGIN CERTIFICATE-----\nMIIBcaA\n-----END CERTIFICATE-----\n";
const CA_B = "-----BEGIN CERTIFICATE-----\nMIIBcaB\n-----END CERTIFICATE-----\n";
const node = (name: string, role: MachineSpec["role"], address: string): MachineSpec => ({ name, role, group: role, ordinal: 1, backend: "openstack", address, labels: {}, taints: [] });
const CP = node("p-cp-1", "control-plane", "10.0.0.16");
const REG = node("p-registry-1", "registry", "10.0.0.24");
const SECRETS = { bootstrapToken: "abcdef.0123456789abcdef", certificateKey: "0".repeat(64), caCertPem: CA_A, caKeyPem: "-----BEGIN EC PRIVATE KEY-----\nk\n-----END EC PRIVATE KEY-----\n", caCertHash: `sha256:${"1".repeat(64)}` };
const engine = engineConfig.parse({ packageSource: { kind: "mirror", url: "http://mirror.example/debian", trusted: true }, mirrors: [{ host: "docker.io", endpoints: ["https://user-mirror.example"] }] });
const cluster = clusterConfig.parse({ kubernetesVersion: "1.33.13" });

/** Every file a control-plane node's bootstrap writes: path → content. */
function nodeFiles(registry: unknown, ca: string): Map<string, string> {
    const endpoint = registryEndpoint(registryConfig.parse(registry), [CP, REG], ca);
    const wiring = clusterRegistryWiring(endpoint);
    const parts: BootstrapPart[] = [
        ...engineParts(engineWithRegistry(engine, endpoint), wiring),
        ...clusterParts(clusterSettings({ config: cluster, clusterName: "p", vip: "10.0.0.10", imageRepository: wiring.imageRepository, kubeVipImage: endpoint && wiring.imageRepository ? imageThroughRegistry(KUBE_VIP_IMAGE, endpoint) : undefined }), CP, CP.name, SECRETS),
    ];
    return new Map(parts.flatMap((p) => p.files.map((f) => [f.path, f.content] as [string, string])));
}

function changedPaths(a: Map<string, string>, b: Map<string, string>): string[] {
    return [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();
}

describe("registry: endpoint and wiring", () => {
    it("standalone: the machine's address and port 5000, one mirror per upstream, imageRepository only air-gapped", () => {
        const ep = registryEndpoint(registryConfig.parse({ mode: "standalone" }), [CP, REG], CA_A)!;
        assert.deepStrictEqual([ep.host, ep.port, ep.authority, ep.imageRepository], ["10.0.0.24", 5000, "10.0.0.24:5000", undefined]);
        assert.deepStrictEqual(ep.mirrors.map((m) => m.host), ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io"]);
        assert.deepStrictEqual(ep.mirrors[0].endpoints, ["https://10.0.0.24:5000"]);
        const air = registryEndpoint(registryConfig.parse({ mode: "standalone", hostname: "reg.example", airGapped: true }), [REG], CA_A)!;
        assert.strictEqual(air.imageRepository, "reg.example:5000");
        assert.strictEqual(imageThroughRegistry("registry.k8s.io/pause:3.10", air), "reg.example:5000/pause:3.10");
        assert.strictEqual(imageThroughRegistry("busybox:1.37.0", air), "reg.example:5000/library/busybox:1.37.0");
    });

    it("harbor: one /v2/<project> mirror per proxy-cache project, imageRepository through the registry.k8s.io project", () => {
        const cfg = { mode: "harbor", hostname: "harbor.example", airGapped: true, proxyCache: [{ name: "k8s", upstream: "https://registry.k8s.io" }, { name: "dockerhub", upstream: "https://registry-1.docker.io" }] };
        const ep = registryEndpoint(registryConfig.parse(cfg), [], CA_A)!;
        assert.deepStrictEqual(ep.mirrors, [
            { host: "docker.io", endpoints: ["https://harbor.example/v2/dockerhub"] },
            { host: "registry.k8s.io", endpoints: ["https://harbor.example/v2/k8s"] },
        ]);
        assert.strictEqual(ep.imageRepository, "harbor.example/k8s");
        assert.strictEqual(imageThroughRegistry("quay.io/x/y:1", ep), undefined);
        assert.strictEqual(upstreamHost("https://index.docker.io"), "docker.io");
        assert.throws(() => registryEndpoint(registryConfig.parse({ mode: "harbor" }), [], CA_A), /platform\.registry\.hostname: is required when registry\.mode is harbor/);
        assert.strictEqual(registryEndpoint(registryConfig.parse({}), [REG], CA_A), undefined);
    });

    it("puts the registry first before the user's mirrors and trusts its CA once", () => {
        const ep = registryEndpoint(registryConfig.parse({ mode: "standalone" }), [REG], CA_A);
        const wired = engineWithRegistry(engineWithRegistry(engine, ep), ep);
        assert.deepStrictEqual(wired.mirrors.find((m) => m.host === "docker.io")!.endpoints, ["https://10.0.0.24:5000", "https://user-mirror.example"]);
        assert.deepStrictEqual(wired.caCertificates, [CA_A]);
        assert.strictEqual(engineWithRegistry(engine, undefined), engine);
    });

    it("changing the registry changes exactly the mirror, CA and imageRepository files of a node", () => {
        const a = nodeFiles({ mode: "standalone", hostname: "reg-a.example", airGapped: true }, CA_A);
        const b = nodeFiles({ mode: "standalone", hostname: "reg-b.example", port: 5443, airGapped: true }, CA_B);
        const mirrored = ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io"];
        const expected = [
            ...mirrored.map((h) => `/etc/containerd/certs.d/${h}/hosts.toml`),
            "/etc/containerd/config.toml",
            `${CA_DIR}/${caFileName(CA_A)}`,
            `${CA_DIR}/${caFileName(CA_B)}`,
            PATHS.initTemplate,
            PATHS.clusterConfig,
            PATHS.kubeVipTemplate,
        ].sort();
        assert.deepStrictEqual(changedPaths(a, b), expected);
        assert.match(a.get(PATHS.initTemplate)!, /imageRepository: reg-a\.example:5000$/m);
        assert.match(b.get(PATHS.initTemplate)!, /imageRepository: reg-b\.example:5443$/m);
        assert.match(b.get(PATHS.clusterConfig)!, /imageRepository: reg-b\.example:5443$/m);
        assert.match(b.get(PATHS.kubeVipTemplate)!, /image: reg-b\.example:5443\/kube-vip\/kube-vip:v[0-9.]+$/m);
        assert.match(b.get("/etc/containerd/config.toml")!, /sandbox_image = "reg-b\.example:5443\/pause:3\.10"/);
        assert.match(b.get("/etc/containerd/certs.d/docker.io/hosts.toml")!, /\[host\."https:\/\/reg-b\.example:5443"\]/);
    });

    it("without air-gap, changing the registry leaves config.toml and kubeadm alone", () => {
        const a = nodeFiles({ mode: "standalone", hostname: "reg-a.example" }, CA_A);
        const b = nodeFiles({ mode: "standalone", hostname: "reg-b.example" }, CA_A);
        assert.deepStrictEqual(changedPaths(a, b), ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io"].map((h) => `/etc/containerd/certs.d/${h}/hosts.toml`));
    });
});
