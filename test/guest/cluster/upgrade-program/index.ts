// The Pulumi program of the guest cluster's upgrade (cluster.guest.ts, `tools/test.sh upgrade`),
// copied into a temporary project whose imports of the repository are made absolute, and run by
// the real engine inside the segment's namespace (a Pulumi host on the node subnet): the three
// guests as the platform's bare-metal machines, their first boot the bootstrap they already ran
// (its converge finds it applied), and the platform's Convergence over the bootstraps rendered for
// the `kubernetesVersion` in config, in the platform's waves, the drains and uncordons through the
// VIP as the cluster's admin. Everything that grants access is a secret: the SSH key, the admin
// key, the scripts (they hold the registry's password).
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { BareMetalMachine } from "../../../../components/machines/baremetal";
import { baremetalBackend } from "../../../../components/machines/config";
import { MachineRole, MachineSpec } from "../../../../components/machines/machine";
import { Convergence, ConvergeItem } from "../../../../components/platform/convergence";

/** What the test writes once (the input file); the scripts folder and version change between ups. */
interface Input {
    /** The platform's name: its Convergence is `<name>-converge`, as in the platform. */
    name: string;
    machines: { name: string; role: MachineRole; address: string }[];
    /** The folder of the bootstraps the guests ran first: `<machine>.sh`. */
    firstBoot: string;
    sshUser: string;
    keyFile: string;
    /** `https://VIP:6443`, its CA, the admin's certificate and key (files). */
    endpoint: string;
    caFile: string;
    adminCertFile: string;
    adminKeyFile: string;
    drainTimeoutSeconds: number;
}

const cfg = new pulumi.Config();
const input = JSON.parse(fs.readFileSync(cfg.require("input"), "utf8")) as Input;
/** The bootstraps as rendered now: `<machine>.sh` (placeholders filled) and `<machine>.digests.json` (plan.json's). */
const scripts = cfg.require("scripts");
const read = (file: string) => fs.readFileSync(file, "utf8");

const backend = baremetalBackend.parse({ sshUser: input.sshUser });
const privateKey = pulumi.secret(read(input.keyFile));
const items: ConvergeItem[] = [];
const hosts: Record<string, BareMetalMachine> = {};
for (const m of input.machines) {
    const spec: MachineSpec = { name: m.name, role: m.role, group: m.role, ordinal: 1, backend: "baremetal", address: m.address, labels: {}, taints: [] };
    const host = new BareMetalMachine(m.name, { spec, backend, privateKey, bootstrap: { script: pulumi.secret(read(path.join(input.firstBoot, `${m.name}.sh`))), userData: "" }, sshUser: input.sshUser });
    hosts[m.name] = host;
    items.push({
        spec,
        machine: host.machine,
        bootstrap: { script: pulumi.secret(read(path.join(scripts, `${m.name}.sh`))), userData: "", digests: JSON.parse(read(path.join(scripts, `${m.name}.digests.json`))) },
        connection: host.connection,
    });
}
const first = input.machines.find((m) => m.role === "control-plane")!.name;
const convergence = new Convergence(`${input.name}-converge`, {
    items,
    firstControlPlane: first,
    batchSize: 1,
    cluster: {
        endpoint: input.endpoint,
        caPem: read(input.caFile),
        adminCertPem: read(input.adminCertFile),
        adminKeyPem: pulumi.secret(read(input.adminKeyFile)),
        kubernetesVersion: cfg.require("kubernetesVersion"),
        drainTimeoutSeconds: input.drainTimeoutSeconds,
        // The API answered before this program ran: the first control plane's bootstrap is the marker.
        apiReady: hosts[first].machine.resource,
    },
});

export const waves = convergence.waves;
/** What each step printed on its last run (secret: a tool may echo a credential). */
export const steps = convergence.steps.map((s) => ({ name: s.name, drain: s.drain?.stdout, converge: s.converge.stdout, uncordon: s.uncordon?.stdout, certificates: s.certificates?.stdout }));
export const certificateExpiry = convergence.certificateExpiry;
