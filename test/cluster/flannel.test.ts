import * as assert from "assert";
import { parseAllDocuments } from "yaml";
import { stackBillOfMaterials } from "../../cli/commands/bom";
import { renderStack, stackFlannelManifest } from "../../cli/commands/render";
import { clusterBillOfMaterials, clusterConfigProblems, clusterSettings, flannelObjects, FlannelManifestInput, renderFlannelManifest } from "../../components/cluster";
import { platformPorts } from "../../components/machines/firewall";
import { parsePlatform } from "../../components/platform/config";
import { exampleSpec, variantSpec } from "../support/kubernetes";
import { recorder } from "../support/mocks";
import { runProgram } from "../support/program";
import { ALL_SECRETS, buildCluster, parse, rawPlatform, settleAll } from "./fixture";

const problemsOf = (raw: Record<string, any>) => parsePlatform(raw, ALL_SECRETS).problems.map((p) => `${p.path}: ${p.message}`);
const flannelRaw = (cni: Record<string, unknown>, cluster: Record<string, unknown> = {}) => rawPlatform("openstack", 1, 1, { cni: { kind: "flannel", ...cni }, ...cluster });

/** What the cluster component renders flannel from, for a platform config. */
function inputOf(raw: Record<string, any>): FlannelManifestInput {
    const spec = parse(raw);
    const f = clusterSettings({ config: spec.config.cluster, clusterName: "gw", vip: spec.ipPlan.vip }).flannel;
    if (f === undefined) throw new Error("no flannel settings");
    return f;
}

const byKind = (objects: Record<string, any>[], kind: string) => objects.find((o) => o.kind === kind)!;

describe("flannel: cluster.cni config", () => {
    it("accepts kind flannel alone (VXLAN, VNI 1, port 8472, no iface) and with every option", () => {
        assert.deepStrictEqual(problemsOf(flannelRaw({})), []);
        const plain = inputOf(flannelRaw({}));
        assert.deepStrictEqual([plain.vni, plain.port, plain.iface], [1, 8472, undefined]);
        assert.deepStrictEqual(problemsOf(flannelRaw({ flannel: { backend: "vxlan", vni: 4096, port: 4789, iface: "bond0.100" } })), []);
        const tuned = inputOf(flannelRaw({ flannel: { vni: 4096, port: 4789, iface: "bond0.100" } }));
        assert.deepStrictEqual([tuned.vni, tuned.port, tuned.iface], [4096, 4789, "bond0.100"]);
    });

    it("refuses bad options, each with its key path, all at once", () => {
        assert.deepStrictEqual(problemsOf(flannelRaw({ flannel: { backend: "host-gw", vni: 0, port: 70000, iface: "eth 0" } })), [
            'platform.cluster.cni.flannel.backend: must be one of "vxlan"; got "host-gw"',
            "platform.cluster.cni.flannel.vni: must be ≥ 1, got 0",
            "platform.cluster.cni.flannel.port: must be ≤ 65535, got 70000",
            `platform.cluster.cni.flannel.iface: must be a network interface name like ens3 or bond0.100 (letters, digits, '.', '_', '-'; at most 15 characters), got "eth 0"`,
        ]);
        assert.deepStrictEqual(problemsOf(flannelRaw({ flannel: { vni: 16777216, iface: "enp0s31f6abcdefgh" } })), [
            "platform.cluster.cni.flannel.vni: must be ≤ 16777215, got 16777216",
            `platform.cluster.cni.flannel.iface: must be a network interface name like ens3 or bond0.100 (letters, digits, '.', '_', '-'; at most 15 characters), got "enp0s31f6abcdefgh"`,
        ]);
        assert.deepStrictEqual(problemsOf(flannelRaw({ flannel: { mtu: 1400 } })), ["platform.cluster.cni.flannel.mtu: unknown key; allowed here: backend, iface, port, vni"]);
    });

    it("refuses flannel options under another CNI, and an unknown CNI with the three allowed", () => {
        assert.deepStrictEqual(problemsOf(rawPlatform("openstack", 1, 1, { cni: { kind: "calico", flannel: { iface: "ens3" } } })), ["platform.cluster.cni.flannel: is for kind flannel only; cni.kind is calico"]);
        assert.deepStrictEqual(problemsOf(rawPlatform("openstack", 1, 1, { cni: { flannel: {} } })), ["platform.cluster.cni.flannel: is for kind flannel only; cni.kind is calico"]);
        assert.deepStrictEqual(problemsOf(rawPlatform("openstack", 1, 1, { cni: { kind: "weave" } })), ['platform.cluster.cni.kind: must be one of "calico", "cilium", "flannel"; got "weave"']);
    });

    it("refuses a pod CIDR with no /24 for a node (flannel routes what kube-controller-manager allocates), for flannel only", () => {
        const message = "platform.cluster.podCidr: 10.244.0.0/25 holds no /24: flannel routes the /24 kube-controller-manager allocates to each node out of it; use a /24 or larger (a /16 has room for 256 nodes)";
        assert.deepStrictEqual(problemsOf(flannelRaw({}, { podCidr: "10.244.0.0/25" })), [message]);
        assert.deepStrictEqual(problemsOf(flannelRaw({}, { podCidr: "10.244.0.0/24" })), []);
        const calico = parse(rawPlatform("openstack", 1, 1, { podCidr: "10.244.0.0/25" })).config.cluster;
        assert.deepStrictEqual(clusterConfigProblems(calico, new Set(["openstack"]), undefined), []);
    });
});

describe("flannel: the rendered manifest (kube-flannel.yml v0.28, written here)", () => {
    const input = inputOf(flannelRaw({}, { podCidr: "10.32.0.0/16" }));

    it("namespace, RBAC, config and DaemonSet in apply order, all in kube-flannel; the namespace may run privileged pods", () => {
        const objects = flannelObjects(input);
        assert.deepStrictEqual(
            objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? "-"}/${o.metadata.name}`),
            [
                "v1 Namespace -/kube-flannel",
                "v1 ServiceAccount kube-flannel/flannel",
                "rbac.authorization.k8s.io/v1 ClusterRole -/flannel",
                "rbac.authorization.k8s.io/v1 ClusterRoleBinding -/flannel",
                "v1 ConfigMap kube-flannel/kube-flannel-cfg",
                "apps/v1 DaemonSet kube-flannel/kube-flannel-ds",
            ],
        );
        assert.strictEqual(objects[0].metadata.labels!["pod-security.kubernetes.io/enforce"], "privileged");
        assert.deepStrictEqual(byKind(objects, "ClusterRole").rules, [
            { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
            { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "patch"] },
            { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] },
        ]);
        assert.deepStrictEqual(byKind(objects, "ClusterRoleBinding").subjects, [{ kind: "ServiceAccount", name: "flannel", namespace: "kube-flannel" }]);
    });

    it("net-conf.json: the cluster's pod CIDR and VXLAN with VNI 1 on port 8472; cni-conf.json: flannel delegating to bridge, then portmap", () => {
        const data = byKind(flannelObjects(input), "ConfigMap").data;
        assert.strictEqual(data["net-conf.json"], '{\n  "Network": "10.32.0.0/16",\n  "EnableNFTables": false,\n  "Backend": {\n    "Type": "vxlan",\n    "VNI": 1,\n    "Port": 8472\n  }\n}\n');
        assert.strictEqual(
            data["cni-conf.json"],
            '{\n  "name": "cbr0",\n  "cniVersion": "0.3.1",\n  "plugins": [\n    {\n      "type": "flannel",\n      "delegate": {\n        "hairpinMode": true,\n        "isDefaultGateway": true\n      }\n    },\n    {\n      "type": "portmap",\n      "capabilities": {\n        "portMappings": true\n      }\n    }\n  ]\n}\n',
        );
        const tuned = byKind(flannelObjects(inputOf(flannelRaw({ flannel: { vni: 7, port: 4789 } }, { podCidr: "172.18.0.0/16" }))), "ConfigMap").data;
        assert.deepStrictEqual(JSON.parse(tuned["net-conf.json"]), { Network: "172.18.0.0/16", EnableNFTables: false, Backend: { Type: "vxlan", VNI: 7, Port: 4789 } });
    });

    it("DaemonSet: host network, node-critical, tolerates every taint effect that keeps pods off, installs the plugin and the conflist, runs flanneld unprivileged with NET_ADMIN and NET_RAW", () => {
        const ds = byKind(flannelObjects(input), "DaemonSet");
        const pod = ds.spec.template.spec;
        assert.deepStrictEqual(ds.spec.selector.matchLabels, { app: "flannel", "k8s-app": "flannel" });
        assert.deepStrictEqual(ds.spec.template.metadata.labels, { app: "flannel", "k8s-app": "flannel", tier: "node" });
        assert.strictEqual(pod.hostNetwork, true);
        assert.strictEqual(pod.priorityClassName, "system-node-critical");
        assert.strictEqual(pod.serviceAccountName, "flannel");
        assert.deepStrictEqual(pod.tolerations, [
            { operator: "Exists", effect: "NoSchedule" },
            { operator: "Exists", effect: "NoExecute" },
        ]);
        assert.deepStrictEqual(pod.initContainers, [
            { name: "install-cni-plugin", image: "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1", command: ["cp"], args: ["-f", "/flannel", "/opt/cni/bin/flannel"], volumeMounts: [{ name: "cni-plugin", mountPath: "/opt/cni/bin" }] },
            {
                name: "install-cni",
                image: "ghcr.io/flannel-io/flannel:v0.28.4",
                command: ["cp"],
                args: ["-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"],
                volumeMounts: [
                    { name: "cni", mountPath: "/etc/cni/net.d" },
                    { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
                ],
            },
        ]);
        const [main] = pod.containers;
        assert.strictEqual(pod.containers.length, 1);
        assert.strictEqual(main.image, "ghcr.io/flannel-io/flannel:v0.28.4");
        assert.deepStrictEqual([main.command, main.args], [["/opt/bin/flanneld"], ["--ip-masq", "--kube-subnet-mgr"]]);
        assert.deepStrictEqual(main.securityContext, { privileged: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"] } });
        assert.deepStrictEqual(main.env, [
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            { name: "EVENT_QUEUE_DEPTH", value: "5000" },
            { name: "CONT_WHEN_CACHE_NOT_READY", value: "false" },
        ]);
        assert.deepStrictEqual(main.volumeMounts.map((m: any) => `${m.name}:${m.mountPath}`), ["run:/run/flannel", "flannel-cfg:/etc/kube-flannel/", "xtables-lock:/run/xtables.lock"]);
        assert.deepStrictEqual(pod.volumes, [
            { name: "run", hostPath: { path: "/run/flannel" } },
            { name: "cni-plugin", hostPath: { path: "/opt/cni/bin" } },
            { name: "cni", hostPath: { path: "/etc/cni/net.d" } },
            { name: "flannel-cfg", configMap: { name: "kube-flannel-cfg" } },
            { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
        ]);
    });

    it("passes --iface only when cluster.cni.flannel.iface is set", () => {
        const args = (raw: Record<string, any>) => byKind(flannelObjects(inputOf(raw)), "DaemonSet").spec.template.spec.containers[0].args;
        assert.deepStrictEqual(args(flannelRaw({ flannel: { iface: "ens3" } })), ["--ip-masq", "--kube-subnet-mgr", "--iface=ens3"]);
        assert.deepStrictEqual(args(flannelRaw({ flannel: { vni: 2 } })), ["--ip-masq", "--kube-subnet-mgr"]);
    });

    it("cluster.cni.version moves flanneld's image only; the YAML stream is the objects, byte-identical on every render", () => {
        const moved = byKind(flannelObjects(inputOf(flannelRaw({ version: "0.28.10" }))), "DaemonSet").spec.template.spec;
        assert.deepStrictEqual([...moved.initContainers, ...moved.containers].map((c: any) => c.image), ["ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1", "ghcr.io/flannel-io/flannel:v0.28.10", "ghcr.io/flannel-io/flannel:v0.28.10"]);
        const yaml = renderFlannelManifest(input);
        assert.strictEqual(renderFlannelManifest(inputOf(flannelRaw({}, { podCidr: "10.32.0.0/16" }))), yaml);
        assert.ok(yaml.startsWith("---\napiVersion: v1\nkind: Namespace\n"), yaml.slice(0, 60));
        assert.deepStrictEqual(parseAllDocuments(yaml).map((d) => d.toJS()), JSON.parse(JSON.stringify(flannelObjects(input))));
    });
});

describe("flannel: bill of materials and images where nodes pull them", () => {
    const flannelImagesOf = (images: string[]) => images.filter((i) => i.includes("flannel"));

    it("an air-gapped bare-metal stack with MetalLB off installs no chart with flannel, so it needs no chart repository; with Calico it does", () => {
        const airGapped = (cni: Record<string, unknown>) => {
            const raw = rawPlatform("baremetal", 1, 1, { cni, addons: { metallb: "off" }, packageSource: { kind: "mirror", url: "https://mirror.example/kubernetes" } });
            raw.machines.registry = { backend: "baremetal", hosts: [{ name: "gw-registry", address: "10.20.4.10" }] };
            raw.engine = { packageSource: { kind: "mirror", url: "https://mirror.example/debian" } };
            raw.registry = { mode: "standalone", airGapped: true };
            return problemsOf(raw);
        };
        assert.deepStrictEqual(airGapped({ kind: "flannel" }), []);
        assert.deepStrictEqual(airGapped({ kind: "calico" }), ["platform.cluster.chartRepository: is required when registry.airGapped is true (the stack installs the charts calico, whose upstream repositories are on the internet)"]);
    });

    it("a flannel stack pulls exactly flannel's two images and no CNI chart; a Calico stack pulls neither", () => {
        const flannel = clusterBillOfMaterials(parse(flannelRaw({})).config.cluster, ["openstack"]);
        assert.deepStrictEqual(flannelImagesOf(flannel.images), ["ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1", "ghcr.io/flannel-io/flannel:v0.28.4"]);
        assert.deepStrictEqual(flannel.charts, ["openstack-cinder-csi@2.33.1", "openstack-cloud-controller-manager@2.33.1"]);
        assert.ok(!flannel.images.some((i) => i.startsWith("docker.io/calico/") || i.startsWith("quay.io/cilium/") || i.startsWith("quay.io/tigera/")));
        const calico = clusterBillOfMaterials(parse(rawPlatform("openstack", 1, 1)).config.cluster, ["openstack"]);
        assert.deepStrictEqual(flannelImagesOf(calico.images), []);
        assert.ok(calico.charts.includes("tigera-operator@v3.30.3"));
    });

    it("air-gapped: the DaemonSet pulls from the registry's path for ghcr.io, the one the bill of materials gives", () => {
        const cdc = variantSpec("customer-dc", (p) => (p.cluster.cni = { kind: "flannel" }));
        const pod = byKind(parseAllDocuments(stackFlannelManifest(cdc)!).map((d) => d.toJS()), "DaemonSet").spec.template.spec;
        assert.deepStrictEqual(pod.initContainers.map((c: any) => c.image), ["registry.cdc.customer.example:5000/flannel-io/flannel-cni-plugin:v1.9.1-flannel1", "registry.cdc.customer.example:5000/flannel-io/flannel:v0.28.4"]);
        const paths = stackBillOfMaterials(cdc).registryPaths;
        assert.strictEqual(paths["ghcr.io/flannel-io/flannel:v0.28.4"], pod.containers[0].image);
        assert.strictEqual(paths["ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1"], pod.initContainers[0].image);
    });

    it("render writes flannel.yaml for a flannel stack only, and only when the cluster is built", () => {
        const dev = variantSpec("dev", (p) => (p.cluster.cni = { kind: "flannel", flannel: { iface: "ens3" } }));
        const files = renderStack(dev).files;
        assert.strictEqual(files.get("flannel.yaml"), stackFlannelManifest(dev));
        assert.match(files.get("flannel.yaml")!, /- --iface=ens3\n/);
        assert.strictEqual(renderStack(exampleSpec("dev")).files.has("flannel.yaml"), false);
        const machinesOnly = variantSpec("dev", (p) => {
            p.cluster.cni = { kind: "flannel" };
            p.upTo = "machines";
        });
        assert.strictEqual(renderStack(machinesOnly).files.has("flannel.yaml"), false);
    });
});

describe("flannel under mocks: the Cluster component", () => {
    it("applies flannel's six objects through the cluster provider instead of a CNI chart; namespaced ones after the namespace, the DaemonSet last", async () => {
        buildCluster(parse(rawPlatform("openstack", 1, 1, { cni: { kind: "flannel", flannel: { iface: "ens3" } } })));
        await settleAll();
        const releases = recorder.ofType("kubernetes:helm.sh/v3:Release").map((r) => r.inputs.chart).sort();
        assert.deepStrictEqual(releases, ["openstack-cinder-csi", "openstack-cloud-controller-manager"]);
        const flannel = recorder.registrations.filter((r) => r.name.startsWith("gw-addons-flannel-"));
        assert.deepStrictEqual(
            flannel.map((r) => `${r.type} ${r.name}`).sort(),
            [
                "kubernetes:apps/v1:DaemonSet gw-addons-flannel-daemonset",
                "kubernetes:core/v1:ConfigMap gw-addons-flannel-configmap",
                "kubernetes:core/v1:Namespace gw-addons-flannel-namespace",
                "kubernetes:core/v1:ServiceAccount gw-addons-flannel-serviceaccount",
                "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole gw-addons-flannel-clusterrole",
                "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding gw-addons-flannel-clusterrolebinding",
            ],
        );
        // Registered once what they depend on is: the namespaced objects after the namespace, the DaemonSet after all five.
        const at = (suffix: string) => flannel.findIndex((r) => r.name.endsWith(`-${suffix}`));
        for (const namespaced of ["serviceaccount", "configmap", "daemonset"]) assert.ok(at(namespaced) > at("namespace"), namespaced);
        assert.strictEqual(at("daemonset"), 5);
        for (const r of flannel) assert.ok(r.provider?.includes("pulumi:providers:kubernetes::gw-k8s"), `${r.name} uses the cluster provider`);
        const ds = flannel[at("daemonset")].inputs;
        assert.deepStrictEqual(ds.spec.template.spec.containers[0].args, ["--ip-masq", "--kube-subnet-mgr", "--iface=ens3"]);
        assert.strictEqual(JSON.parse(flannel[at("configmap")].inputs.data["net-conf.json"]).Network, "10.244.0.0/16");
    });

    it("opens the flannel VXLAN port (UDP 8472, or the configured one) between nodes, and neither Calico's nor Cilium's ports", async () => {
        buildCluster(parse(rawPlatform("openstack", 1, 1, { cni: { kind: "flannel" } })));
        await settleAll();
        const rules = recorder.ofType("openstack:networking/secGroupRule:SecGroupRule").map((r) => `${r.inputs.protocol}/${r.inputs.portRangeMin}-${r.inputs.portRangeMax} ${r.inputs.description}`);
        assert.ok(rules.includes("udp/8472-8472 flannel vxlan from nodes"), rules.join("\n"));
        assert.deepStrictEqual(rules.filter((r) => /\/(179|4789|5473|4240)-/.test(r)), []);
        assert.deepStrictEqual(platformPorts({ kind: "flannel", vxlanPort: 4789 }).filter((p) => p.protocol === "udp"), [{ protocol: "udp", from: 4789, to: 4789, purpose: "flannel vxlan" }]);
    });
});

describe("flannel: the program applies what render shows", () => {
    const withFlannel = (cni: Record<string, unknown>) => (config: Record<string, string>) => {
        const platform = JSON.parse(config["groundwork:platform"]);
        platform.cluster.cni = cni;
        config["groundwork:platform"] = JSON.stringify(platform);
    };

    it("dev with flannel: every applied object equals flannel.yaml of `groundwork render`; OpenStack nodes keep their metadata guard for the pod CIDR", async () => {
        const cni = { kind: "flannel", flannel: { iface: "ens3", vni: 9 } };
        await runProgram("dev", withFlannel(cni));
        const applied = recorder.registrations
            .filter((r) => r.name.startsWith("dev-addons-flannel-"))
            .map((r) => JSON.parse(JSON.stringify(r.inputs)))
            .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
        const spec = variantSpec("dev", (p) => (p.cluster.cni = cni));
        const rendered = parseAllDocuments(stackFlannelManifest(spec)!)
            .map((d) => d.toJS())
            .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
        assert.strictEqual(applied.length, 6);
        assert.deepStrictEqual(applied, rendered);
        // The guard drops pod → 169.254.169.254 in raw PREROUTING, before flannel's masquerade (POSTROUTING) rewrites the source.
        for (const m of renderStack(spec).machines.filter((x) => x.machine.backend === "openstack")) {
            assert.ok(m.parts.includes("metadata-guard"), m.machine.name);
            assert.ok(m.script.includes("iptables -t raw -I PREROUTING 1 -s 10.244.0.0/16 -d 169.254.169.254/32 -j DROP"), m.machine.name);
        }
    });
});
