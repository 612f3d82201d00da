// A Pulumi program for tls-random.int.ts: groundwork's own ClusterSecrets and registry TLS on the
// real engine with the bridged tls and random plugins, plus the random resources a cluster's
// token and certificate key can be made of, each in its secret form and one plain RandomId as
// the control (how ClusterSecrets made its certificate key before issue 11: in clear in state).
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClusterSecrets, joinToken } from "../../../../components/cluster/secrets";
import { issueRegistryTls } from "../../../../components/registry/tls";

const cluster = new ClusterSecrets("itest", { clusterName: "itest", endpoint: { host: "192.0.2.10", port: 6443 } });
// A joining machine's token exactly as groundwork's MachineJoin makes it.
const machineToken = joinToken("itest-worker-1-token", {});

class Registry extends pulumi.ComponentResource {
    constructor(name: string) {
        super("groundwork:test:Registry", name, {});
    }
}
const registry = issueRegistryTls("itest-registry", ["registry.itest.example", "192.0.2.20"], new Registry("itest-registry"));

// The secret forms: a RandomId whose every encoding is a secret output, RandomPasswords for the
// token's parts (their results are sensitive in Terraform; their ID is "none").
const idOutputs = ["hex", "b64Std", "b64Url", "dec", "id"];
const secretId = new random.RandomId("secret-certificate-key", { byteLength: 32 }, { additionalSecretOutputs: idOutputs });
const tokenChars = { upper: false, special: false, lower: true, numeric: true };
const tokenId = new random.RandomPassword("secret-token-id", { length: 6, ...tokenChars });
const tokenSecret = new random.RandomPassword("secret-token-secret", { length: 16, ...tokenChars });
// RandomBytes: its encodings are sensitive in Terraform and it has no ID of its own.
const secretBytes = new random.RandomBytes("secret-bytes-certificate-key", { length: 32 });
// The control: a RandomId, as ClusterSecrets made its certificate key before issue 11.
const plainId = new random.RandomId("plain-certificate-key", { byteLength: 32 });

export const clusterCaCertPem = cluster.caCertPem;
export const clusterCaKeyPem = cluster.caKeyPem;
export const clusterCaCertHash = cluster.caCertHash;
export const clusterAdminCertPem = cluster.adminCertPem;
export const clusterAdminKeyPem = cluster.adminKeyPem;
export const clusterAdminKubeconfig = cluster.adminKubeconfig;
export const clusterBootstrapToken = machineToken;
export const clusterCertificateKey = cluster.certificateKey;
export const registryCaPem = registry.caPem;
export const registryCertPem = registry.certPem;
export const registryKeyPem = registry.keyPem;
export const secretIdHex = secretId.hex;
export const secretIdB64Url = secretId.b64Url;
export const secretToken = pulumi.secret(pulumi.interpolate`${tokenId.result}.${tokenSecret.result}`);
export const plainIdHex = plainId.hex;
export const secretBytesHex = secretBytes.hex;
