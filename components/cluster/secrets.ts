import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { createHash } from "crypto";
import { caCertHash, ClusterTrust, renderKubeconfig } from "./kubeadm";

/** kubeadm's certificate key (64 hex characters, an AES-256 key) from a random seed. */
export function certificateKeyOf(seed: string): string {
    return createHash("sha256").update(seed, "utf8").digest("hex");
}

/**
 * A kubeadm bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}` from two RandomPasswords: the provider
 * marks their results (and bcrypt hashes) secret in state and gives them no meaningful id, which
 * RandomString and RandomId do not. `keepers` replace the token when they change.
 */
export function joinToken(name: string, opts: pulumi.CustomResourceOptions, keepers?: pulumi.Input<Record<string, pulumi.Input<string>>>): pulumi.Output<string> {
    const part = (suffix: string, length: number) =>
        new random.RandomPassword(`${name}-${suffix}`, { length, upper: false, special: false, lower: true, numeric: true, keepers }, opts).result;
    return pulumi.secret(pulumi.interpolate`${part("id", 6)}.${part("secret", 16)}`);
}

export interface ClusterSecretsArgs {
    /** Cluster name: the kubeconfig's cluster entry. */
    clusterName: string;
    /** The control-plane endpoint the admin kubeconfig points at (VIP or external LB). */
    endpoint: { host: string; port: number };
    /** CA lifetime in hours. Defaults to 87600 (10 years, kubeadm's default). */
    caValidityHours?: number;
    /** Admin client certificate lifetime in hours. Defaults to 8760 (1 year). */
    adminValidityHours?: number;
}

/**
 * Everything secret a cluster needs, made before any machine exists: the cluster CA (so the
 * discovery hash is known and workers join while the control plane comes up), the certificate
 * key for control-plane joins, the deploy key join material goes over SSH with, and an admin
 * kubeconfig signed by the same CA (so it is known without asking the cluster). Join tokens are
 * per machine (Cluster, joinToken). Every value that grants access is a secret, in state too.
 */
export class ClusterSecrets extends pulumi.ComponentResource {
    public readonly caCertPem: pulumi.Output<string>;
    public readonly caKeyPem: pulumi.Output<string>;
    /** `sha256:<hex>` of the CA public key (not secret: it pins, it grants nothing). */
    public readonly caCertHash: pulumi.Output<string>;
    /** OpenSSH public key of the deploy key: added to every VM node's login user. */
    public readonly deployPublicKey: pulumi.Output<string>;
    /** OpenSSH private key the program delivers join material with (secret). */
    public readonly deployPrivateKey: pulumi.Output<string>;
    /** 64 hex characters. */
    public readonly certificateKey: pulumi.Output<string>;
    public readonly adminKubeconfig: pulumi.Output<string>;
    public readonly adminCertPem: pulumi.Output<string>;
    public readonly adminKeyPem: pulumi.Output<string>;

    constructor(name: string, args: ClusterSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("groundwork:cluster:ClusterSecrets", name, {}, opts);
        const child = { parent: this };
        const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "RSA", rsaBits: 2048 }, child);
        const ca = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                subject: { commonName: "kubernetes" },
                isCaCertificate: true,
                validityPeriodHours: args.caValidityHours ?? 87600,
                allowedUses: ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
            },
            child,
        );
        const deployKey = new tls.PrivateKey(`${name}-deploy-key`, { algorithm: "ED25519" }, child);
        // RandomId's resource id is its value in clear (ids cannot be secret), so the key is derived
        // from a RandomPassword (381 random bits) instead: sha256 → the 64 hex characters kubeadm wants.
        const certKeySeed = new random.RandomPassword(`${name}-certificate-key`, { length: 64, special: false }, child);

        const adminKey = new tls.PrivateKey(`${name}-admin-key`, { algorithm: "RSA", rsaBits: 2048 }, child);
        const adminCsr = new tls.CertRequest(`${name}-admin-csr`, { privateKeyPem: adminKey.privateKeyPem, subject: { commonName: "groundwork-admin", organization: "system:masters" } }, child);
        const adminCert = new tls.LocallySignedCert(
            `${name}-admin-cert`,
            {
                certRequestPem: adminCsr.certRequestPem,
                caPrivateKeyPem: caKey.privateKeyPem,
                caCertPem: ca.certPem,
                validityPeriodHours: args.adminValidityHours ?? 8760,
                allowedUses: ["digital_signature", "key_encipherment", "client_auth"],
            },
            child,
        );

        // additionalSecretOutputs is applied by the engine only; wrapping keeps these secret under mocks too.
        this.caCertPem = ca.certPem;
        this.caKeyPem = pulumi.secret(caKey.privateKeyPem);
        this.caCertHash = caKey.publicKeyPem.apply(caCertHash);
        this.deployPublicKey = deployKey.publicKeyOpenssh;
        this.deployPrivateKey = pulumi.secret(deployKey.privateKeyOpenssh);
        this.certificateKey = pulumi.secret(certKeySeed.result.apply(certificateKeyOf));
        this.adminCertPem = adminCert.certPem;
        this.adminKeyPem = pulumi.secret(adminKey.privateKeyPem);
        const server = `https://${args.endpoint.host}:${args.endpoint.port}`;
        this.adminKubeconfig = pulumi.secret(
            pulumi.all([ca.certPem, adminCert.certPem, adminKey.privateKeyPem]).apply(([caCertPem, clientCertPem, clientKeyPem]) =>
                renderKubeconfig({ clusterName: args.clusterName, server, caCertPem, user: "groundwork-admin", clientCertPem, clientKeyPem }),
            ),
        );
        this.registerOutputs({ caCertPem: this.caCertPem, caCertHash: this.caCertHash, adminKubeconfig: this.adminKubeconfig });
    }

    /** What every node's bootstrap carries about the cluster (nothing secret). */
    trust(): pulumi.Output<ClusterTrust> {
        return pulumi.all([this.caCertPem, this.caCertHash]).apply(([caCertPem, caCertHash]) => ({ caCertPem, caCertHash }));
    }
}
