/**
 * The fields of kubeadm.k8s.io/v1beta4 and the kubelet.config.k8s.io/v1beta1 fields groundwork
 * may use, transcribed from the API types (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go).
 * `true` is a leaf; `[x]` a list of x.
 */
export type Shape = true | Shape[] | { [k: string]: Shape };

const arg: Shape = { name: true, value: true };
const envVar: Shape = { name: true, value: true, valueFrom: true };
const taint: Shape = { key: true, value: true, effect: true, timeAdded: true };
const apiEndpoint: Shape = { advertiseAddress: true, bindPort: true };
const timeouts: Shape = { controlPlaneComponentHealthCheck: true, kubeletHealthCheck: true, kubernetesAPICall: true, etcdAPICall: true, tlsBootstrap: true, discovery: true, upgradeManifests: true };
const nodeRegistration: Shape = { name: true, criSocket: true, taints: [taint], kubeletExtraArgs: [arg], ignorePreflightErrors: true, imagePullPolicy: true, imagePullSerial: true };
const component: Record<string, Shape> = { extraArgs: [arg], extraVolumes: [{ name: true, hostPath: true, mountPath: true, readOnly: true, pathType: true }], extraEnvs: [envVar] };
const typeMeta: Record<string, Shape> = { apiVersion: true, kind: true };

export const V1BETA4: Record<string, Shape> = {
    InitConfiguration: {
        ...typeMeta,
        bootstrapTokens: [{ token: true, description: true, ttl: true, expires: true, usages: true, groups: true }],
        dryRun: true,
        nodeRegistration,
        localAPIEndpoint: apiEndpoint,
        certificateKey: true,
        skipPhases: true,
        patches: { directory: true },
        timeouts,
    },
    ClusterConfiguration: {
        ...typeMeta,
        etcd: {
            local: { imageRepository: true, imageTag: true, dataDir: true, extraArgs: [arg], extraEnvs: [envVar], serverCertSANs: true, peerCertSANs: true },
            external: { endpoints: true, caFile: true, certFile: true, keyFile: true },
        },
        networking: { serviceSubnet: true, podSubnet: true, dnsDomain: true },
        kubernetesVersion: true,
        controlPlaneEndpoint: true,
        apiServer: { ...component, certSANs: true },
        controllerManager: component,
        scheduler: component,
        dns: { imageRepository: true, imageTag: true, disabled: true },
        proxy: { disabled: true },
        certificatesDir: true,
        imageRepository: true,
        featureGates: true,
        clusterName: true,
        encryptionAlgorithm: true,
        certificateValidityPeriod: true,
        caCertificateValidityPeriod: true,
    },
    JoinConfiguration: {
        ...typeMeta,
        dryRun: true,
        nodeRegistration,
        caCertPath: true,
        discovery: {
            bootstrapToken: { token: true, apiServerEndpoint: true, caCertHashes: true, unsafeSkipCAVerification: true },
            file: { kubeConfigPath: true },
            tlsBootstrapToken: true,
        },
        controlPlane: { localAPIEndpoint: apiEndpoint, certificateKey: true },
        skipPhases: true,
        patches: { directory: true },
        timeouts,
    },
    KubeletConfiguration: { ...typeMeta, cgroupDriver: true, containerRuntimeEndpoint: true, rotateCertificates: true, failSwapOn: true, clusterDNS: true, clusterDomain: true, serverTLSBootstrap: true, maxPods: true },
};

/** Paths in `doc` that its kind's shape does not have (a list must be a list, an object an object). */
export function unknownFields(doc: any, shape: Shape, path = ""): string[] {
    if (shape === true) return [];
    if (Array.isArray(shape)) {
        if (!Array.isArray(doc)) return [`${path} (must be a list)`];
        return doc.flatMap((d, i) => unknownFields(d, shape[0], `${path}[${i}]`));
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return [`${path} (must be an object)`];
    return Object.entries(doc).flatMap(([k, v]) => (k in shape ? unknownFields(v, shape[k], path ? `${path}.${k}` : k) : [path ? `${path}.${k}` : k]));
}
