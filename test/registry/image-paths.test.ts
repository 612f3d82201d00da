import * as assert from "assert";
import { parse as parseYaml } from "yaml";
import { stackBillOfMaterials } from "../../cli/commands/bom";
import { CLUSTER_PROVIDER, engineInputs } from "../../cli/commands/render";
import { PATHS } from "../../components/cluster/parts";
import { engineParts } from "../../components/engine/engines";
import { CONTAINERD_CONFIG } from "../../components/engine/render-containerd";
import { PlatformSpec } from "../../components/platform/config";
import { exampleSpec, variantSpec } from "../support/kubernetes";

/** A file the rendered bootstrap of a stack's first control plane writes (engine and cluster parts, as `groundwork render` builds them). */
function controlPlaneFile(spec: PlatformSpec, file: string): string {
    const { engine, engineOptions } = engineInputs(spec);
    const machine = spec.machines.find((m) => m.role === "control-plane")!;
    const parts = [...engineParts(engine, engineOptions), ...CLUSTER_PROVIDER.parts({ spec, machine, engine, engineOptions })];
    const found = parts.flatMap((p) => p.files).find((f) => f.path === file);
    if (!found) throw new Error(`no ${file} in the bootstrap of ${machine.name}`);
    return found.content;
}

const sandboxOf = (spec: PlatformSpec) => /sandbox_image = "([^"]+)"/.exec(controlPlaneFile(spec, CONTAINERD_CONFIG))![1];
const kubeVipOf = (spec: PlatformSpec) => parseYaml(controlPlaneFile(spec, PATHS.kubeVipTemplate)).spec.containers[0].image as string;

describe("registry: images where nodes pull them (bill of materials, mirror paths, nodes agree)", () => {
    it("pause follows the Kubernetes minor: containerd's sandbox image, kubeadm's pause and the bill of materials are one image", () => {
        const v133 = exampleSpec("dev");
        const v134 = variantSpec("dev", (p) => (p.cluster.kubernetesVersion = "1.34.4"));
        assert.strictEqual(sandboxOf(v133), "registry.k8s.io/pause:3.10");
        assert.strictEqual(sandboxOf(v134), "registry.k8s.io/pause:3.10.1");
        const bom = stackBillOfMaterials(v134);
        assert.ok(bom.layers.kubeadm.images.includes("registry.k8s.io/pause:3.10.1"));
        assert.deepStrictEqual(bom.layers.engine.images, ["registry.k8s.io/pause:3.10.1"]);
        assert.ok(!bom.images.includes("registry.k8s.io/pause:3.10"), "no stale pause of another minor");
        // A sandbox image the stack sets itself wins, and is what the bill of materials lists.
        const own = variantSpec("dev", (p) => (p.engine = { ...(p.engine ?? {}), sandboxImage: "registry.example/pause:3.9" }));
        assert.strictEqual(sandboxOf(own), "registry.example/pause:3.9");
        assert.deepStrictEqual(stackBillOfMaterials(own).layers.engine.images, ["registry.example/pause:3.9"]);
    });

    it("air-gapped: containerd's sandbox image is the registry path the bill of materials gives for pause", () => {
        const cdc = exampleSpec("customer-dc");
        const bom = stackBillOfMaterials(cdc);
        assert.strictEqual(sandboxOf(cdc), "registry.cdc.customer.example:5000/pause:3.10");
        assert.strictEqual(bom.registryPaths["registry.k8s.io/pause:3.10"], sandboxOf(cdc));
    });

    it("kube-vip comes from ghcr.io at v0.9.1, through the registry's ghcr.io path (air-gapped: by that name; Harbor: by the mirror)", () => {
        assert.strictEqual(kubeVipOf(exampleSpec("dev")), "ghcr.io/kube-vip/kube-vip:v0.9.1");
        const cdc = exampleSpec("customer-dc");
        assert.strictEqual(kubeVipOf(cdc), "registry.cdc.customer.example:5000/kube-vip/kube-vip:v0.9.1");
        assert.strictEqual(stackBillOfMaterials(cdc).registryPaths["ghcr.io/kube-vip/kube-vip:v0.9.1"], kubeVipOf(cdc));
        // Harbor (never air-gapped): the manifest keeps ghcr.io's name, containerd's ghcr.io mirror is the ghcr
        // proxy-cache project, and that is where the bill of materials places it (not in the registry.k8s.io one).
        const harbor = variantSpec("prod", (p) => p.registry.proxyCache.push({ name: "k8s", upstream: "https://registry.k8s.io" }, { name: "ghcr", upstream: "https://ghcr.io" }));
        assert.strictEqual(kubeVipOf(harbor), "ghcr.io/kube-vip/kube-vip:v0.9.1");
        assert.strictEqual(stackBillOfMaterials(harbor).registryPaths["ghcr.io/kube-vip/kube-vip:v0.9.1"], "harbor.prod.example/ghcr/kube-vip/kube-vip:v0.9.1");
    });

    it("chart-default images and each chart's repository are in the bill of materials", () => {
        const dev = stackBillOfMaterials(exampleSpec("dev"));
        for (const c of ["apiserver", "goldmane", "whisker", "whisker-backend"]) assert.ok(dev.images.includes(`docker.io/calico/${c}:v3.30.3`), `calico ${c}`);
        assert.deepStrictEqual(dev.chartRepositories, {
            "openstack-cinder-csi@2.33.1": "https://kubernetes.github.io/cloud-provider-openstack",
            "openstack-cloud-controller-manager@2.33.1": "https://kubernetes.github.io/cloud-provider-openstack",
            "tigera-operator@v3.30.3": "https://docs.tigera.io/calico/charts",
        });
        const prod = stackBillOfMaterials(exampleSpec("prod"));
        assert.ok(prod.images.includes("quay.io/cilium/cilium-envoy:v1.34.7-1757592137-1a52bb680a956879722f48c591a2ca90f7791324"));
        // prod installs every chart from its internal chart repository, Harbor's included.
        assert.deepStrictEqual(Object.keys(prod.chartRepositories!), prod.charts);
        assert.ok(Object.values(prod.chartRepositories!).every((r) => r === "https://charts.prod.example"));
    });
});
