import { z } from "zod";
import { parseCidr, parseIp, parseRange } from "./ipv4";

/**
 * Small zod building blocks shared by every layer's config schema, so messages read the same
 * everywhere ("must be …, got …").
 */

export const ipv4 = z.string().refine((s) => parseIp(s) !== undefined, (s) => ({ message: `must be an IPv4 address like 10.0.0.1, got "${s}"` }));
export const cidr = z.string().refine((s) => typeof parseCidr(s) !== "string", (s) => ({ message: String(parseCidr(s)) }));
export const ipRange = z.string().refine((s) => typeof parseRange(s) !== "string", (s) => ({ message: String(parseRange(s)) }));

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dnsLabel = (max = 63) =>
    z.string().refine((s) => s.length <= max && DNS_LABEL.test(s), (s) => ({
        message: `must be lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters; got "${s}"`,
    }));

export const hostName = z.string().refine((s) => /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$/.test(s) && s.length <= 253, (s) => ({
    message: `must be a DNS name or address (optionally with :port), got "${s}"`,
}));

export const url = (schemes: string[] = ["http", "https"]) =>
    z.string().refine((s) => {
        try {
            const u = new URL(s);
            return schemes.includes(u.protocol.replace(/:$/, "")) && u.hostname !== "";
        } catch {
            return false;
        }
    }, (s) => ({ message: `must be a ${schemes.join(" or ")} URL, got "${s}"` }));

/** A package or image version: pinned, never `latest`. */
export const pinnedVersion = z.string().refine((s) => /^[0-9A-Za-z.+~:_-]+$/.test(s) && s !== "latest", (s) => ({
    message: `must be a pinned version (letters, digits, . + ~ : _ -), not "latest"; got "${s}"`,
}));

export const kubernetesVersion = z.string().refine((s) => /^v?\d+\.\d+\.\d+$/.test(s), (s) => ({
    message: `must be a full Kubernetes version like 1.33.5 (major.minor.patch), got "${s}"`,
}));

export const labelKey = z.string().refine((s) => /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(s), (s) => ({
    message: `must be a Kubernetes label key like node.example.com/zone, got "${s}"`,
}));

export const labelValue = z.string().refine((s) => s === "" || /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(s), (s) => ({
    message: `must be a Kubernetes label value (at most 63 letters, digits, '-', '_', '.'), got "${s}"`,
}));

export const pem = z.string().refine((s) => /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(s), () => ({
    message: "must be a PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)",
}));

export const count = (min = 0) => z.number().int().min(min);
