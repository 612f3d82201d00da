import * as assert from "assert";
import { mergeBoms, registryBillOfMaterials } from "../../components/registry/bom";
import { registryConfig } from "../../components/registry/config";
import { harborAppVersion } from "../../components/registry/render-harbor";
import { runCli } from "../support/cli";

interface JsonBom {
    stack: string;
    images: string[];
    packages: string[];
    charts: string[];
}

async function bom(stack: string): Promise<JsonBom> {
    const r = await runCli(["bom", "--stack", stack, "--json"]);
    assert.strictEqual(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
}

const sortedUnique = (xs: string[]) => [...new Set(xs)].sort();

describe("registry: groundwork bom", () => {
    for (const stack of ["local", "dev", "qa", "prod", "customer-dc"]) {
        it(`${stack}: pinned, sorted, without repeats`, async () => {
            const b = await bom(stack);
            for (const i of b.images) assert.match(i, /^[a-z0-9.-]+\.[a-z]+\/[a-z0-9._/-]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$/, `image ${i}`);
            assert.ok(!b.images.some((i) => i.endsWith(":latest")));
            for (const p of b.packages) assert.match(p, /^[a-z0-9][a-z0-9+.-]*=[0-9][^=\s]*$/, `package ${p}`);
            for (const c of b.charts) assert.match(c, /^[a-z0-9-]+@v?[0-9][0-9.]*$/, `chart ${c}`);
            for (const list of [b.images, b.packages, b.charts]) assert.deepStrictEqual(list, sortedUnique(list));
        });
    }

    it("prod: Harbor's chart and images, cilium, the OpenStack add-ons and the kubeadm images of 1.33.13", async () => {
        const b = await bom("prod");
        assert.ok(b.charts.includes("harbor@1.16.2"));
        assert.ok(b.charts.includes("cilium@1.18.2"));
        assert.ok(b.images.includes("docker.io/goharbor/harbor-core:v2.12.2"));
        assert.ok(b.images.includes("registry.k8s.io/kube-apiserver:v1.33.13"));
        assert.ok(b.images.includes("docker.io/curlimages/curl:8.11.1"), "the proxy-cache Job's image");
        // Not air-gapped: Harbor's scanner runs (its vulnerability database comes through the proxy).
        assert.deepStrictEqual(b.images.filter((i) => i.includes("trivy")), ["docker.io/goharbor/trivy-adapter-photon:v2.12.2"]);
        assert.ok(b.packages.includes("kubeadm=1.33.13-1.1"));
    });

    it("the app matrix's images join the bill of materials under their upstream names; upTo machines adds none", async () => {
        const workloadImages = [
            "docker.io/clickhouse/clickhouse-server:25.3.10.19",
            "docker.io/hashicorp/http-echo:1.0.0",
            "docker.io/library/nats:2.11.6-alpine",
            "docker.io/library/postgres:17.6",
            "docker.io/nginxinc/nginx-unprivileged:1.28.0-alpine",
        ];
        for (const stack of ["dev", "prod"]) {
            const b = await bom(stack);
            for (const i of workloadImages) assert.ok(b.images.includes(i), `${stack}: ${i}`);
            assert.ok(!b.images.some((i) => i.includes("rabbitmq")), `${stack} runs NATS`);
        }
        const cdc = await bom("customer-dc");
        assert.ok(cdc.images.includes("docker.io/library/rabbitmq:4.1.3"));
        assert.ok(!cdc.images.some((i) => i.includes("/nats:")), "customer-dc runs RabbitMQ");
    });

    it("customer-dc: the standalone registry's package and the vSphere add-ons; local: engine packages only", async () => {
        const cdc = await bom("customer-dc");
        assert.ok(cdc.packages.includes("docker-registry=2.8.2+ds1-1"));
        assert.ok(cdc.charts.some((c) => c.startsWith("vsphere-csi@")));
        assert.ok(!cdc.charts.some((c) => c.startsWith("harbor@")));
        const local = await bom("local");
        // The engine's sandbox image is the pause of the stack's Kubernetes minor (1.33: 3.10), even without a cluster.
        assert.deepStrictEqual(local, {
            stack: "local",
            images: ["registry.k8s.io/pause:3.10"],
            packages: ["containerd=1.6.20~ds1-1+deb12u3", "runc=1.1.5+ds1-1+deb12u1"],
            charts: [],
            chartRepositories: {},
            registryPaths: {},
        });
    });

    it("prints counts and sections as text, and rejects bad input with exit 2", async () => {
        const r = await runCli(["bom", "--stack", "dev"]);
        assert.strictEqual(r.code, 0);
        assert.match(r.stdout, /^bill of materials of stack dev \(dev\): \d+ images, 7 packages, 3 charts$/m);
        assert.match(r.stdout, /^images \(\d+\):$/m);
        const bad = await runCli(["bom", "--stack", "dev", "--yaml"]);
        assert.strictEqual(bad.code, 2);
        assert.match(bad.stderr, /unknown flag --yaml/);
        const none = await runCli(["bom"]);
        assert.strictEqual(none.code, 2);
        assert.match(none.stderr, /give exactly one of --stack NAME or --stack-file FILE/);
    });

    it("refuses an unpinned image and an unknown Harbor chart version", () => {
        assert.throws(() => mergeBoms({ images: ["docker.io/x/y:latest"], packages: [], charts: [] }), /image docker\.io\/x\/y:latest must carry a pinned tag/);
        assert.throws(() => mergeBoms({ images: ["docker.io/x/y"], packages: [], charts: [] }), /must carry a pinned tag/);
        assert.throws(() => harborAppVersion("9.9.9"), /chartVersion: groundwork has no image pins for chart 9\.9\.9; known: /);
        assert.deepStrictEqual(registryBillOfMaterials(registryConfig.parse({})), { images: [], packages: [], charts: [] });
    });
});
