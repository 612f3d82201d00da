import * as assert from "assert";
import { etcdSnapshotsEnabled, pinnedChartVersions, pinnedImages, protectClusterCritical } from "../../policy/policies";
import { T } from "../../policy/lib";
import { controlPlaneInstance, helmRelease, snapshotCronJob } from "./fixtures";
import { resourceArgs, stackResource, stackViolations, violations, withField } from "./harness";

const CONTAINER = "spec.jobTemplate.spec.template.spec.containers.0.image";

describe("policy pinned-images", () => {
    const policy = pinnedImages("advisory");
    const job = (image: string) => resourceArgs(T.cronJob, withField(snapshotCronJob, CONTAINER, image));

    it("passes tagged images, digests and registries with a port", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.cronJob, snapshotCronJob)), []);
        assert.deepStrictEqual(await violations(policy, job(`registry.k8s.io/etcd@sha256:${"a".repeat(64)}`)), []);
        assert.deepStrictEqual(await violations(policy, job("harbor.prod.example:8443/k8s/etcd:3.5.16-0")), []);
    });

    it("rejects the latest tag", async () => {
        assert.deepStrictEqual(await violations(policy, job("registry.k8s.io/etcd:latest")), [
            'spec.jobTemplate.spec.template.spec.containers[0].image: image "registry.k8s.io/etcd:latest" uses the tag latest; pin a version tag or a digest',
        ]);
    });

    it("rejects an untagged image, even behind a registry port", async () => {
        assert.deepStrictEqual(await violations(policy, job("harbor.prod.example:8443/k8s/etcd")), [
            'spec.jobTemplate.spec.template.spec.containers[0].image: image "harbor.prod.example:8443/k8s/etcd" has no tag (means latest); pin a version tag or a digest',
        ]);
    });

    it("checks init containers of any Kubernetes kind, not other fields named image", async () => {
        const deployment = { metadata: { name: "x", annotations: { image: "anything" } }, spec: { template: { spec: { initContainers: [{ name: "init", image: "busybox" }], containers: [] } } } };
        assert.deepStrictEqual(await violations(policy, resourceArgs("kubernetes:apps/v1:Deployment", deployment)), [
            'spec.template.spec.initContainers[0].image: image "busybox" has no tag (means latest); pin a version tag or a digest',
        ]);
    });
});

describe("policy pinned-chart-versions", () => {
    const policy = pinnedChartVersions("mandatory");

    it("passes an exact chart version", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.helmRelease, helmRelease)), []);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.helmRelease, withField(helmRelease, "version", "v1.16.3-rc.1"))), []);
    });

    it("rejects a missing version", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.helmRelease, withField(helmRelease, "version", undefined))), ["chart cilium has no version; pin an exact chart version"]);
    });

    it("rejects ranges and latest", async () => {
        for (const v of ["^1.16.0", "~1.16", "1.16.x", ">=1.16.0", "latest", "*"]) {
            assert.deepStrictEqual(await violations(policy, resourceArgs(T.helmRelease, withField(helmRelease, "version", v))), [`chart cilium version "${v}" is not exact; pin one version like 1.2.3`], v);
        }
    });
});

describe("policy etcd-snapshots-enabled", () => {
    const policy = etcdSnapshotsEnabled("mandatory");
    const cp = stackResource(T.instance, controlPlaneInstance, "cp-1");
    const job = stackResource(T.cronJob, snapshotCronJob, "etcd-snapshot");

    it("passes a stack with a running snapshot CronJob", async () => {
        assert.deepStrictEqual(await stackViolations(policy, [cp, job]), []);
    });

    it("rejects a cluster without a snapshot CronJob", async () => {
        assert.deepStrictEqual(await stackViolations(policy, [cp]), [
            "no etcd snapshot CronJob (label app.kubernetes.io/name: etcd-snapshot) for 1 control-plane machine; keep cluster.addons.etcdSnapshots.enabled: true",
        ]);
    });

    it("rejects a suspended snapshot CronJob", async () => {
        const suspended = stackResource(T.cronJob, withField(snapshotCronJob, "spec.suspend", true), "etcd-snapshot");
        assert.deepStrictEqual(await stackViolations(policy, [cp, suspended]), ["etcd snapshot CronJob etcd-snapshot is suspended; snapshots must run"]);
    });

    it("exempts local stacks and stacks without control planes", async () => {
        const localCp = stackResource(T.instance, withField(controlPlaneInstance, ["metadata", "groundwork:environment"], "local"), "cp-1");
        assert.deepStrictEqual(await stackViolations(policy, [localCp]), []);
        assert.deepStrictEqual(await stackViolations(policy, []), []);
    });
});

describe("policy protect-cluster-critical", () => {
    const policy = protectClusterCritical("mandatory");
    const caKey = { algorithm: "ECDSA", ecdsaCurve: "P256" };

    it("passes a protected cluster CA key and an unprotected non-CA key", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.privateKey, caKey, { name: "prod-cluster-ca-key", protect: true })), []);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.privateKey, caKey, { name: "prod-cp-1-ssh-host-key" })), []);
    });

    it("rejects an unprotected cluster CA key", async () => {
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.privateKey, caKey, { name: "prod-cluster-ca-key" })), [
            "prod-cluster-ca-key is cluster-critical (a CA or service-account key); set protect: true so it cannot be deleted or replaced by accident",
        ]);
    });

    it("rejects an unprotected CA certificate and service-account key", async () => {
        const cert = { privateKeyPem: "pem", isCaCertificate: true, validityPeriodHours: 87600, allowedUses: ["cert_signing"] };
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.selfSignedCert, cert, { name: "prod-etcd-cert" })), [
            "prod-etcd-cert is cluster-critical (a CA or service-account key); set protect: true so it cannot be deleted or replaced by accident",
        ]);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.selfSignedCert, withField(cert, "isCaCertificate", false), { name: "prod-etcd-cert" })), []);
        assert.deepStrictEqual(await violations(policy, resourceArgs(T.privateKey, caKey, { name: "prod-sa-key" })), [
            "prod-sa-key is cluster-critical (a CA or service-account key); set protect: true so it cannot be deleted or replaced by accident",
        ]);
    });
});
