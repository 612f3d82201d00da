import { EnforcementLevel, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { parse as parseYaml } from "yaml";

/** A guardrail is built from its enforcement level, so the pack (and tests) choose how strict it is. */
export type GuardrailFactory = (level: EnforcementLevel) => ResourceValidationPolicy | StackValidationPolicy;

/** Resource type tokens the guardrails look at. */
export const T = {
    instance: "openstack:compute/instance:Instance",
    serverGroup: "openstack:compute/serverGroup:ServerGroup",
    secGroupRule: "openstack:networking/secGroupRule:SecGroupRule",
    port: "openstack:networking/port:Port",
    vsphereVm: "vsphere:index/virtualMachine:VirtualMachine",
    remoteCommand: "command:remote:Command",
    helmRelease: "kubernetes:helm.sh/v3:Release",
    cronJob: "kubernetes:batch/v1:CronJob",
    privateKey: "tls:index/privateKey:PrivateKey",
    selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
    kubernetesProvider: "pulumi:providers:kubernetes",
    vsphereProvider: "pulumi:providers:vsphere",
} as const;

/** Metadata keys the machines layer puts on every OpenStack server (see components/machines/openstack.ts). */
export const ROLE_KEY = "groundwork:role";
export const ENVIRONMENT_KEY = "groundwork:environment";
/** vSphere has no server metadata; the same markers travel as guestinfo keys. */
export const VSPHERE_ROLE_KEY = "guestinfo.groundwork.role";
export const VSPHERE_ENVIRONMENT_KEY = "guestinfo.groundwork.environment";
/** Stack tag naming the environment, for backends without metadata (and Pulumi Cloud stacks). */
export const ENVIRONMENT_TAG = "groundwork:environment";

type Props = Record<string, unknown>;

const isObject = (v: unknown): v is Props => v !== null && typeof v === "object" && !Array.isArray(v);

/** A string property, or undefined when absent or not a string. */
export function str(props: Props, key: string): string | undefined {
    const v = props[key];
    return typeof v === "string" ? v : undefined;
}

/** The role marker of a machine resource, whichever backend made it. */
export function roleOf(r: { type: string; props: Props }): string | undefined {
    if (r.type === T.instance) return isObject(r.props.metadata) ? str(r.props.metadata, ROLE_KEY) : undefined;
    if (r.type === T.vsphereVm) return isObject(r.props.extraConfig) ? str(r.props.extraConfig, VSPHERE_ROLE_KEY) : undefined;
    return undefined;
}

/**
 * The stack's environment (local, dev, qa, prod, customer): the `groundwork:environment` marker on
 * its machines, else the `groundwork:environment` stack tag. Undefined when neither is set.
 */
export function environmentOf(resources: ReadonlyArray<{ type: string; props: Props }>, stackTags: ReadonlyMap<string, string>): string | undefined {
    for (const r of resources) {
        const marker =
            r.type === T.instance && isObject(r.props.metadata)
                ? str(r.props.metadata, ENVIRONMENT_KEY)
                : r.type === T.vsphereVm && isObject(r.props.extraConfig)
                  ? str(r.props.extraConfig, VSPHERE_ENVIRONMENT_KEY)
                  : undefined;
        if (marker !== undefined) return marker;
    }
    return stackTags.get(ENVIRONMENT_TAG);
}

/** Decodes a guestinfo value when its `<key>.encoding` sibling says base64. */
export function guestinfoValue(extraConfig: Props, key: string): string | undefined {
    const raw = str(extraConfig, key);
    if (raw === undefined) return undefined;
    const enc = str(extraConfig, `${key}.encoding`);
    return enc === "base64" || enc === "b64" ? Buffer.from(raw, "base64").toString("utf8") : raw;
}

/** The text of every file a cloud-config writes (decoding base64 ones), or the text itself when it is not cloud-config. */
function cloudConfigTexts(userData: string): string[] {
    if (!userData.startsWith("#cloud-config")) return [userData];
    let doc: unknown;
    try {
        doc = parseYaml(userData);
    } catch {
        return [userData];
    }
    const files = isObject(doc) && Array.isArray(doc.write_files) ? doc.write_files : [];
    const texts = files.filter(isObject).map((f) => {
        const content = typeof f.content === "string" ? f.content : "";
        return f.encoding === "b64" || f.encoding === "base64" ? Buffer.from(content, "base64").toString("utf8") : content;
    });
    return [userData, ...texts];
}

/** What a machine resource runs at first boot (or, for bare metal, over SSH), as searchable text. */
export function bootstrapTexts(type: string, props: Props): string[] {
    if (type === T.instance) {
        const ud = str(props, "userData");
        return ud === undefined ? [] : cloudConfigTexts(ud);
    }
    if (type === T.vsphereVm && isObject(props.extraConfig)) {
        const ud = guestinfoValue(props.extraConfig, "guestinfo.userdata");
        return ud === undefined ? [] : cloudConfigTexts(ud);
    }
    if (type === T.remoteCommand) {
        return ["create", "update", "stdin"].map((k) => str(props, k)).filter((s): s is string => s !== undefined);
    }
    return [];
}

/** Every `image:` of every container in a Kubernetes object, with its path. */
export function containerImages(value: unknown, path = ""): { path: string; image: string }[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => containerImages(v, `${path}[${i}]`));
    if (!isObject(value)) return [];
    const out: { path: string; image: string }[] = [];
    for (const [k, v] of Object.entries(value)) {
        const p = path === "" ? k : `${path}.${k}`;
        if (k === "image" && typeof v === "string" && /(^|\.)(containers|initContainers|ephemeralContainers)\[\d+\]$/.test(path)) out.push({ path: p, image: v });
        else out.push(...containerImages(v, p));
    }
    return out;
}

/** Why an image reference is not pinned, or undefined when it is (a digest, or a tag other than latest). */
export function unpinnedImage(image: string): string | undefined {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastSegment.indexOf(":");
    if (colon < 0) return "has no tag (means latest)";
    const tag = lastSegment.slice(colon + 1);
    return tag === "latest" ? "uses the tag latest" : undefined;
}

/** Resources of one type from a stack, with their outputs. */
export function ofType(resources: PolicyResource[], type: string): PolicyResource[] {
    return resources.filter((r) => r.type === type);
}
