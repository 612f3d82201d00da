import { BootstrapPart, renderBootstrapScript, renderUserData } from "../../components/engine/bootstrap";

/** A containerd hosts.toml for a mirror reached over verified TLS. */
export const SAFE_HOSTS_TOML = 'server = "https://registry-1.docker.io"\n\n[host."https://harbor.prod.example/v2/dockerhub"]\n  capabilities = ["pull", "resolve"]\n  ca = "/etc/groundwork/ca.crt"\n';

/** The user-data a control-plane server boots with, rendered by the real renderers. */
export function userDataWith(hostsToml: string): string {
    const identity = { hostname: "prod-cp-1", sshUser: "groundwork", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPrOdOps prod-ops"] };
    const parts: BootstrapPart[] = [{ name: "engine/mirrors", files: [{ path: "/etc/containerd/certs.d/docker.io/hosts.toml", content: hostsToml }], script: "" }];
    return renderUserData(identity, renderBootstrapScript(identity, parts));
}

/** Inputs of a prod control-plane server as components/machines/openstack.ts registers them. */
export const controlPlaneInstance = {
    name: "prod-cp-1",
    flavorName: "m1.xlarge",
    imageName: "debian-12-genericcloud",
    keyPair: "prod-keypair",
    userData: userDataWith(SAFE_HOSTS_TOML),
    networks: [{ port: "port-id-1" }],
    schedulerHints: [{ group: "server-group-id" }],
    metadata: { "groundwork:role": "control-plane", "groundwork:group": "controlPlane", "groundwork:address": "10.40.0.32", "groundwork:environment": "prod" },
};

export const workerInstance = {
    ...controlPlaneInstance,
    name: "prod-general-1",
    schedulerHints: undefined,
    metadata: { "groundwork:role": "worker", "groundwork:group": "general", "groundwork:address": "10.40.1.1", "groundwork:environment": "prod" },
};

export const serverGroup = { name: "prod-openstack-control-plane", policies: ["anti-affinity"] };

export const sshRule = { securityGroupId: "sg-1", direction: "ingress", ethertype: "IPv4", protocol: "tcp", portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "10.1.10.0/24", description: "ssh from 10.1.10.0/24" };

export const port = { name: "prod-cp-1", networkId: "net-1", fixedIps: [{ subnetId: "subnet-1", ipAddress: "10.40.0.32" }], securityGroupIds: ["sg-1"], adminStateUp: true };

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** Inputs of a vSphere VM configured through guestinfo (components/machines/vsphere.ts). */
export const vsphereVm = {
    name: "cdc-cp-1",
    numCpus: 4,
    memory: 8192,
    extraConfig: {
        "guestinfo.metadata": b64("instance-id: cdc-cp-1\nlocal-hostname: cdc-cp-1\n"),
        "guestinfo.metadata.encoding": "base64",
        "guestinfo.userdata": b64(userDataWith(SAFE_HOSTS_TOML)),
        "guestinfo.userdata.encoding": "base64",
        "guestinfo.groundwork.role": "control-plane",
    },
};

export const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n";

/** Inputs of a bare-metal bootstrap run (components/machines/baremetal.ts). */
export const bootstrapCommand = {
    connection: { host: "10.50.0.11", port: 22, user: "debian", privateKey: PRIVATE_KEY, dialErrorLimit: 20 },
    create: 'if [ "$(id -u)" -eq 0 ]; then bash -s; else sudo -n bash -s; fi',
    stdin: "#!/bin/bash\nset -euo pipefail\necho bootstrap\n",
    triggers: ["3f2a9c0e"],
};

export const vsphereProvider = { vsphereServer: "vcenter.customer.example", user: "svc-groundwork@vsphere.local", password: "s3cr3t", allowUnverifiedSsl: false };

export const KUBECONFIG = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: prod",
    "  cluster:",
    "    server: https://10.40.0.20:6443",
    "    certificate-authority-data: LS0tLS1CRUdJTg==",
    "users:",
    "- name: admin",
    "  user:",
    "    client-key-data: LS0tLS1CRUdJTg==",
    "contexts:",
    "- name: prod",
    "  context: { cluster: prod, user: admin }",
    "current-context: prod",
    "",
].join("\n");

export const kubernetesProvider = { kubeconfig: KUBECONFIG, enableServerSideApply: "true" };

export const helmRelease = { chart: "cilium", version: "1.16.3", namespace: "kube-system", repositoryOpts: { repo: "https://charts.prod.example" } };

export const snapshotCronJob = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "etcd-snapshot", namespace: "kube-system", labels: { "app.kubernetes.io/name": "etcd-snapshot" } },
    spec: {
        schedule: "0 */2 * * *",
        suspend: false,
        jobTemplate: {
            spec: {
                template: {
                    spec: {
                        initContainers: [{ name: "wait", image: "registry.k8s.io/pause:3.10" }],
                        containers: [{ name: "snapshot", image: "registry.k8s.io/etcd:3.5.16-0", command: ["etcdctl", "snapshot", "save"] }],
                    },
                },
            },
        },
    },
};
