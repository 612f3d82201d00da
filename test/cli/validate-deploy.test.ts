import * as assert from "assert";
import * as fs from "fs";
import { parse } from "yaml";
import { stackFilePath } from "../../cli/stackfile";
import { runCli, writeStackFile } from "../support/cli";

type Config = Record<string, any>;
const load = (stack: string): Config => parse(fs.readFileSync(stackFilePath(stack), "utf8")).config;
const platformOf = (c: Config) => c["groundwork:platform"];

/**
 * Rules the components used to meet only at deploy time (after machines were registered), the
 * air-gap contract and the prod guardrails: validate refuses each with exit 2 and this exact line.
 */
const cases: [string, string, (c: Config) => void, string][] = [
    ["a Kubernetes minor without pins", "dev", (c) => (platformOf(c).cluster.kubernetesVersion = "1.29.3"), "platform.cluster.kubernetesVersion: 1.29.3 has no pinned images in groundwork; use 1.31, 1.32, 1.33 or 1.34"],
    ["MetalLB (auto, bare metal) without an address pool", "customer-dc", (c) => delete platformOf(c).network.loadBalancerPool, "platform.network.loadBalancerPool: is required when MetalLB runs (cluster.addons.metallb is auto and there are bare-metal machines)"],
    ["MetalLB switched on without an address pool", "dev", (c) => (platformOf(c).cluster.addons = { metallb: "on" }), "platform.network.loadBalancerPool: is required when MetalLB runs (cluster.addons.metallb is on)"],
    ["an insecure registry in prod", "prod", (c) => Object.assign(platformOf(c).engine, { insecureRegistries: ["registry.lab:5000"], allowInsecureRegistries: true }), "platform.engine.insecureRegistries: plain-HTTP registries are not allowed in environment prod (registry.lab:5000); trust the registry's CA with engine.caCertificates instead"],
    ["a Harbor chart without image pins", "prod", (c) => (platformOf(c).registry.harbor.chartVersion = "1.9.0"), "platform.registry.harbor.chartVersion: groundwork has no image pins for chart 1.9.0; known: 1.15.2, 1.16.0, 1.16.1, 1.16.2"],
    ["a registry hostname with a port", "customer-dc", (c) => (platformOf(c).registry.hostname = "registry.cdc.customer.example:5000"), 'platform.registry.hostname: must be a DNS name without a port, got "registry.cdc.customer.example:5000"; set registry.port instead'],
    ["an SSH user useradd refuses", "dev", (c) => (platformOf(c).machines.sshUser = "1ops"), 'platform.machines.sshUser: must be a POSIX user name (a lower-case letter or _, then letters, digits, _ or -), got "1ops"'],
    ["a Kubernetes key over plain HTTP", "qa", (c) => (platformOf(c).cluster.packageSource.url = "http://mirror.corp.example/kubernetes"), "platform.cluster.packageSource.url: http://mirror.corp.example/kubernetes is plain HTTP: its signing key (Release.key) would come unauthenticated; use https, or set cluster.packageSource.trusted: true for a mirror you trust"],
    ["air-gapped without a registry", "dev", (c) => (platformOf(c).registry = { airGapped: true }), "platform.registry.mode: must be standalone when registry.airGapped is true (air-gapped nodes pull every image from the platform registry)"],
    ["air-gapped with Harbor on the cluster it would serve", "prod", (c) => (platformOf(c).registry.airGapped = true), "platform.registry.mode: must be standalone when registry.airGapped is true: Harbor (mode harbor) runs on this cluster, so it cannot serve the images the cluster needs to come up (kubeadm's, the CNI's, Harbor's own); use a registry machine (mode standalone) seeded with groundwork seed, or set registry.airGapped to false so nodes fall back to the upstream registries (through engine.proxy)"],
    ["air-gapped with the distribution's apt sources", "customer-dc", (c) => delete platformOf(c).engine.packageSource, "platform.engine.packageSource.kind: must be mirror when registry.airGapped is true (the distribution's apt sources are on the internet)"],
    ["air-gapped with pkgs.k8s.io", "customer-dc", (c) => delete platformOf(c).cluster.packageSource, "platform.cluster.packageSource.kind: must be mirror when registry.airGapped is true (pkgs.k8s.io is on the internet)"],
    ["air-gapped with the charts' upstream repositories", "customer-dc", (c) => delete platformOf(c).cluster.chartRepository, "platform.cluster.chartRepository: is required when registry.airGapped is true (the stack installs the charts calico, vsphereCpi, vsphereCsi, metallb, whose upstream repositories are on the internet)"],
];

describe("cli: groundwork validate runs what deploy checks", () => {
    for (const [what, stack, mutate, expected] of cases) {
        it(`exit 2 for ${what}`, async () => {
            const config = load(stack);
            mutate(config);
            const r = await runCli(["validate", "--stack-file", writeStackFile(config)]);
            assert.strictEqual(r.code, 2, r.stdout);
            assert.ok(r.stderr.split("\n").includes(expected), `expected line:\n  ${expected}\ngot:\n${r.stderr}`);
            assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
        });
    }

    it("an air-gapped stack missing everything gets every problem at once", async () => {
        const config = load("dev");
        platformOf(config).registry = { airGapped: true };
        const r = await runCli(["validate", "--stack-file", writeStackFile(config)]);
        assert.strictEqual(r.code, 2);
        assert.deepStrictEqual(
            r.stderr.split("\n").filter((l) => l.startsWith("platform.")).map((l) => l.split(":")[0]),
            ["platform.registry.mode", "platform.engine.packageSource.kind", "platform.cluster.packageSource.kind", "platform.cluster.chartRepository"],
        );
    });

    it("insecure registries stay allowed outside prod when opted in", async () => {
        const config = load("dev");
        platformOf(config).engine = { insecureRegistries: ["registry.lab:5000"], allowInsecureRegistries: true };
        const r = await runCli(["validate", "--stack-file", writeStackFile(config)]);
        assert.strictEqual(r.code, 0, r.stderr);
    });
});
