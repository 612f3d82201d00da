import * as assert from "assert";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { stackFilePath } from "../../cli/stackfile";
import { loadStackFile } from "../../cli/stackfile";
import { addonCredentials } from "../../components/platform/platform";
import { runCli, writeStackFile } from "../support/cli";
import { recorder, valueOf } from "../support/mocks";
import { runProgram } from "../support/program";

type Config = Record<string, any>;
const load = (stack: string): Config => parse(fs.readFileSync(stackFilePath(stack), "utf8")).config;
const SECRET = "kubernetes:core/v1:Secret";

async function validate(config: Config): Promise<string[]> {
    const r = await runCli(["validate", "--stack-file", writeStackFile(config)]);
    assert.strictEqual(r.code, 2, r.stdout + r.stderr);
    return r.stderr.trim().split("\n").slice(0, -1);
}

describe("add-on credentials: OpenStack cloud-config and S3 etcd snapshots (issue 11, item 6)", () => {
    it("validate names each missing OpenStack credential and the auth URL", async () => {
        const c = load("dev");
        delete c["groundwork:openstackApplicationCredentialId"];
        delete c["groundwork:openstackApplicationCredentialSecret"];
        delete c["groundwork:platform"].backends.openstack.authUrl;
        assert.deepStrictEqual(await validate(c), [
            "platform.backends.openstack.authUrl: is required when cluster.addons.cloudIntegration is on: the OpenStack cloud controller and Cinder CSI log in there (or set cluster.addons.cloudIntegration: false)",
            "platform.cluster.addons.cloudIntegration: needs the secret groundwork:openstackApplicationCredentialId: the OpenStack cloud controller and Cinder CSI log in with it (or set cluster.addons.cloudIntegration: false); set it with `pulumi config set --secret groundwork:openstackApplicationCredentialId`",
            "platform.cluster.addons.cloudIntegration: needs the secret groundwork:openstackApplicationCredentialSecret: the OpenStack cloud controller and Cinder CSI log in with it (or set cluster.addons.cloudIntegration: false); set it with `pulumi config set --secret groundwork:openstackApplicationCredentialSecret`",
        ]);
    });

    it("validate names a missing S3 snapshot key, refuses one in plain text, and one inside groundwork:platform", async () => {
        const c = load("prod");
        delete c["groundwork:etcdSnapshotS3SecretAccessKey"];
        c["groundwork:etcdSnapshotS3AccessKeyId"] = "AKIAPLAINTEXT";
        c["groundwork:platform"].backends.openstack.applicationCredentialSecret = "hunter2";
        assert.deepStrictEqual(await validate(c), [
            "groundwork:etcdSnapshotS3AccessKeyId: must be a secret; set it with `pulumi config set --secret groundwork:etcdSnapshotS3AccessKeyId`",
            "platform.backends.openstack.applicationCredentialSecret: secrets do not belong in groundwork:platform; use `pulumi config set --secret groundwork:openstackApplicationCredentialSecret`",
        ]);
        delete c["groundwork:platform"].backends.openstack.applicationCredentialSecret;
        assert.deepStrictEqual(await validate(c), [
            "groundwork:etcdSnapshotS3AccessKeyId: must be a secret; set it with `pulumi config set --secret groundwork:etcdSnapshotS3AccessKeyId`",
            "platform.cluster.addons.etcdSnapshots.target: needs the secret groundwork:etcdSnapshotS3AccessKeyId: the snapshot job writes to the bucket with it; set it with `pulumi config set --secret groundwork:etcdSnapshotS3AccessKeyId`",
            "platform.cluster.addons.etcdSnapshots.target: needs the secret groundwork:etcdSnapshotS3SecretAccessKey: the snapshot job writes to the bucket with it; set it with `pulumi config set --secret groundwork:etcdSnapshotS3SecretAccessKey`",
        ]);
    });

    it("needs nothing when cloud integration is off, or the stack stops at machines", async () => {
        const off = load("dev");
        delete off["groundwork:openstackApplicationCredentialId"];
        delete off["groundwork:openstackApplicationCredentialSecret"];
        off["groundwork:platform"].cluster.addons = { cloudIntegration: false };
        // Without Cinder there is no default StorageClass for the app matrix's volumes: the stack names one.
        off["groundwork:platform"].apps = { ...off["groundwork:platform"].apps, storageClass: "local-block" };
        assert.strictEqual((await runCli(["validate", "--stack-file", writeStackFile(off)])).code, 0);
        assert.strictEqual((await runCli(["validate", "--stack", "local"])).code, 0);
    });

    it("dev: the Secret both OpenStack charts read holds cloud.conf with the application credential, as a secret", async () => {
        await runProgram("dev");
        // The app matrix's own credentials live in namespace apps; the add-ons' in kube-system.
        const secrets = recorder.ofType(SECRET).filter((s) => s.inputs.metadata.namespace !== "apps");
        assert.deepStrictEqual(secrets.map((s) => `${s.inputs.metadata.namespace}/${s.inputs.metadata.name}`), ["kube-system/cloud-config"]);
        const [s] = secrets;
        assert.ok(s.secretInputs.includes("stringData"), `stringData must be secret, secret inputs: ${s.secretInputs}`);
        assert.deepStrictEqual(s.inputs.stringData, {
            "cloud.conf": [
                "[Global]",
                'auth-url = "https://keystone.dev.example:5000/v3"',
                'application-credential-id = "test-secret-for-groundwork:openstackApplicationCredentialId"',
                'application-credential-secret = "test-secret-for-groundwork:openstackApplicationCredentialSecret"',
                "",
            ].join("\n"),
        });
        // The charts mount exactly that Secret (CCM: /etc/config/cloud.conf; Cinder CSI: /etc/kubernetes/<filename>).
        const values = (chart: string) => recorder.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === chart)!.inputs.values.secret;
        assert.deepStrictEqual(values("openstack-cloud-controller-manager"), { enabled: true, create: false, name: "cloud-config" });
        assert.deepStrictEqual(values("openstack-cinder-csi"), { enabled: true, create: false, name: "cloud-config", filename: "cloud.conf" });
    });

    it("prod: the S3 keys become the etcd-snapshot-s3 Secret the CronJob reads, as a secret; region in cloud.conf", async () => {
        await runProgram("prod");
        const byName = Object.fromEntries(recorder.ofType(SECRET).map((s) => [s.inputs.metadata.name, s]));
        const s3 = byName["etcd-snapshot-s3"];
        assert.ok(s3 && s3.secretInputs.includes("stringData"));
        assert.deepStrictEqual(s3.inputs.stringData, { accessKeyId: "test-secret-for-groundwork:etcdSnapshotS3AccessKeyId", secretAccessKey: "test-secret-for-groundwork:etcdSnapshotS3SecretAccessKey" });
        assert.match(byName["cloud-config"].inputs.stringData["cloud.conf"], /\nregion = "RegionOne"\n$/);
        const env = recorder.ofType("kubernetes:batch/v1:CronJob")[0].inputs.spec.jobTemplate.spec.template.spec.containers[0].env;
        assert.deepStrictEqual(env.find((e: any) => e.name === "AWS_SECRET_ACCESS_KEY").valueFrom, { secretKeyRef: { name: "etcd-snapshot-s3", key: "secretAccessKey" } });
    });

    it("addonCredentials: every credential output is a Pulumi secret", async () => {
        const spec = loadStackFile(stackFilePath("prod")).spec!;
        const creds = addonCredentials(spec, new Set(["openstack"]), {
            openstackApplicationCredentialId: "id-1",
            openstackApplicationCredentialSecret: "s3cr3t",
            etcdSnapshotS3AccessKeyId: "AKIA1",
            etcdSnapshotS3SecretAccessKey: "k3y",
        });
        assert.strictEqual(await pulumi.isSecret(pulumi.output(creds.openstackCloudConf!)), true);
        assert.strictEqual(await pulumi.isSecret(pulumi.output(creds.etcdSnapshotS3!.accessKeyId)), true);
        assert.strictEqual(await pulumi.isSecret(pulumi.output(creds.etcdSnapshotS3!.secretAccessKey)), true);
        assert.match(await valueOf(creds.openstackCloudConf!), /^application-credential-secret = "s3cr3t"$/m);
    });
});
