/**
 * IPv4 arithmetic on unsigned 32-bit integers. Pure and dependency-free so the IP plan can be
 * computed (and property-tested) without Pulumi.
 */

/** An inclusive range of IPv4 addresses, as unsigned integers. */
export interface Ipv4Range {
    first: number;
    last: number;
}

/** A parsed CIDR block. */
export interface Cidr extends Ipv4Range {
    /** The address as written, normalised (`10.0.0.0/24`). */
    text: string;
    prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses a dotted-quad address; returns undefined when it is not one. */
export function parseIp(text: string): number | undefined {
    const parts = text.split(".");
    if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) {
        return undefined;
    }
    return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Formats an unsigned 32-bit integer as a dotted quad. */
export function formatIp(value: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parses `a.b.c.d/n`; the address must be the network address of the block. */
export function parseCidr(text: string): Cidr | string {
    const [addr, bits, ...rest] = text.split("/");
    const base = parseIp(addr ?? "");
    if (rest.length > 0 || bits === undefined || !/^\d{1,2}$/.test(bits) || base === undefined) {
        return `must be an IPv4 CIDR like 10.0.0.0/24, got "${text}"`;
    }
    const prefix = Number(bits);
    if (prefix > 32) {
        return `prefix length must be 0-32, got /${prefix}`;
    }
    const size = 2 ** (32 - prefix);
    if (base % size !== 0) {
        return `"${text}" has host bits set; the network address is ${formatIp(base - (base % size))}/${prefix}`;
    }
    return { text: `${formatIp(base)}/${prefix}`, prefix, first: base, last: base + size - 1 };
}

/**
 * Parses a range written as a CIDR (`10.0.0.16/28`), a span (`10.0.0.20-10.0.0.29`) or a
 * single address. Returns a message when the text is none of these.
 */
export function parseRange(text: string): Ipv4Range | string {
    if (text.includes("/")) {
        const cidr = parseCidr(text);
        return typeof cidr === "string" ? cidr : { first: cidr.first, last: cidr.last };
    }
    const [a, b, ...rest] = text.split("-");
    const first = parseIp((a ?? "").trim());
    const last = b === undefined ? first : parseIp(b.trim());
    if (rest.length > 0 || first === undefined || last === undefined) {
        return `must be an address, a range like 10.0.0.20-10.0.0.29 or a CIDR, got "${text}"`;
    }
    if (last < first) {
        return `range "${text}" ends before it starts`;
    }
    return { first, last };
}

export function rangeSize(r: Ipv4Range): number {
    return r.last - r.first + 1;
}

export function overlaps(a: Ipv4Range, b: Ipv4Range): boolean {
    return a.first <= b.last && b.first <= a.last;
}

export function contains(outer: Ipv4Range, inner: Ipv4Range | number): boolean {
    const r = typeof inner === "number" ? { first: inner, last: inner } : inner;
    return outer.first <= r.first && r.last <= outer.last;
}

export function formatRange(r: Ipv4Range): string {
    return r.first === r.last ? formatIp(r.first) : `${formatIp(r.first)}-${formatIp(r.last)}`;
}
