import * as assert from "assert";
import { validateCluster } from "../../components/cluster";
import { parsePlatform } from "../../components/platform/config";
import { ALL_SECRETS, parse, rawPlatform } from "./fixture";

const config = parse(rawPlatform("openstack", 3, 1)).config.cluster;
const happy = { config, nodeCidr: "10.20.0.0/24", vip: "10.20.0.10", controlPlanes: 3, backends: ["openstack"] };

function platformProblems(raw: Record<string, any>): string[] {
    const { problems } = parsePlatform(raw, ALL_SECRETS);
    return problems.map((p) => `${p.path}: ${p.message}`);
}

describe("cluster validation", () => {
    it("accepts the happy path", () => {
        assert.deepStrictEqual(validateCluster(happy), []);
    });

    it("even control-plane counts", () => {
        for (const n of [2, 4]) {
            assert.deepStrictEqual(validateCluster({ ...happy, controlPlanes: n }), [{ path: "machines.controlPlane", message: `must be 1, 3 or 5 control-plane machines (an odd etcd quorum), got ${n}` }]);
        }
        assert.deepStrictEqual(platformProblems(rawPlatform("openstack", 2, 1)), ["platform.machines.controlPlane.count: must be 1, 3 or 5 (an odd etcd quorum), got 2"]);
    });

    it("a VIP outside the node subnet", () => {
        assert.deepStrictEqual(validateCluster({ ...happy, vip: "10.30.0.10" }), [{ path: "network.vip", message: "10.30.0.10 is outside the node subnet 10.20.0.0/24; kube-vip answers ARP only on that subnet" }]);
        const raw = rawPlatform("openstack", 3, 1);
        raw.network.vip = "10.30.0.10";
        assert.deepStrictEqual(platformProblems(raw), ["platform.network.vip: 10.30.0.10 is outside the subnet 10.20.0.0/16"]);
    });

    it("overlapping pod, service and node CIDRs", () => {
        const overlapping = { ...config, podCidr: "10.20.0.0/16", serviceCidr: "10.20.128.0/20" };
        assert.deepStrictEqual(validateCluster({ ...happy, config: overlapping }), [
            { path: "cluster.podCidr", message: "10.20.0.0/16 overlaps the node subnet 10.20.0.0/24" },
            { path: "cluster.serviceCidr", message: "10.20.128.0/20 overlaps cluster.podCidr 10.20.0.0/16" },
        ]);
        assert.deepStrictEqual(platformProblems(rawPlatform("openstack", 3, 1, { podCidr: "10.96.0.0/16" })), ["platform.cluster.serviceCidr: 10.96.0.0/12 overlaps platform.cluster.podCidr 10.96.0.0/16"]);
    });

    it("an unknown Kubernetes version format, and a minor without pins", () => {
        assert.deepStrictEqual(validateCluster({ ...happy, config: { ...config, kubernetesVersion: "1.33" } }), [
            { path: "cluster.kubernetesVersion", message: 'must be a full Kubernetes version like 1.33.5 (major.minor.patch), got "1.33"' },
        ]);
        assert.deepStrictEqual(validateCluster({ ...happy, config: { ...config, kubernetesVersion: "1.29.3" } }), [
            { path: "cluster.kubernetesVersion", message: "1.29.3 has no pinned images in groundwork; use 1.31, 1.32, 1.33 or 1.34" },
        ]);
        assert.deepStrictEqual(platformProblems(rawPlatform("openstack", 3, 1, { kubernetesVersion: "latest" })), [
            'platform.cluster.kubernetesVersion: must be a full Kubernetes version like 1.33.5 (major.minor.patch), got "latest"',
        ]);
    });

    it("MetalLB without a pool, and reports every problem at once", () => {
        const problems = validateCluster({ ...happy, controlPlanes: 2, vip: undefined, backends: ["baremetal"] });
        assert.deepStrictEqual(problems.map((p) => p.path), ["machines.controlPlane", "network.vip", "network.loadBalancerPool"]);
        assert.strictEqual(problems[2].message, "is required when MetalLB runs (cluster.addons.metallb is auto and there are bare-metal machines)");
    });
});
