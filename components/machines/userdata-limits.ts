import { BackendKind } from "./config";

/**
 * How much user-data a VM backend delivers, counted as the base64 text it travels as.
 *
 * - OpenStack: Nova's API takes `user_data` base64-encoded and restricted to 65,535 bytes (the
 *   compute API reference, `POST /servers`); the provider encodes what we hand it, so the raw
 *   limit is 49,149 bytes.
 * - vSphere: cloud-init's VMware datasource reads `guestinfo.userdata` (base64, see
 *   guestinfo()) through one VMware Tools RPC message, at most 64 KiB (open-vm-tools
 *   `GUESTMSG_MAX_IN_SIZE`); we keep 1 KiB of it for the reply's framing: 64,512 bytes.
 * - Bare metal: none (the script goes over SSH).
 */
export const USER_DATA_LIMITS: Partial<Record<BackendKind, { base64Bytes: number; what: string }>> = {
    openstack: { base64Bytes: 65_535, what: "OpenStack's limit of 65,535 base64 bytes (Nova user_data)" },
    vsphere: { base64Bytes: 64_512, what: "vSphere's limit of 64,512 base64 bytes (one guestinfo value: 64 KiB less 1 KiB for the Tools RPC reply)" },
};

/** Length of the base64 text of `bytes` bytes. */
export function base64Length(bytes: number): number {
    return 4 * Math.ceil(bytes / 3);
}

const n = (x: number) => x.toLocaleString("en-US");

/** Why this machine's user-data cannot be delivered by its backend, or undefined when it fits. */
export function userDataTooLarge(machine: string, backend: BackendKind, userData: string): string | undefined {
    const limit = USER_DATA_LIMITS[backend];
    if (limit === undefined) return undefined;
    const bytes = Buffer.byteLength(userData, "utf8");
    const encoded = base64Length(bytes);
    if (encoded <= limit.base64Bytes) return undefined;
    return `${machine}: user-data is ${n(bytes)} bytes (${n(encoded)} as base64), over ${limit.what}; trust fewer CAs, list fewer mirrors or SSH keys`;
}
