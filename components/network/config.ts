import { z } from "zod";
import { cidr, ipRange, ipv4 } from "../kit/zod-kit";

/** `platform.network`: the node subnet and the pools machines take static addresses from. */
export const networkConfig = z
    .object({
        /** Node subnet, e.g. `10.20.0.0/24`. */
        cidr,
        /** The subnet's gateway. */
        gateway: ipv4,
        /** DNS servers handed to machines. Defaults to none (the image's resolver). */
        dns: z.array(ipv4).default([]),
        /** Ranges groundwork must never use. Defaults to none. */
        reserved: z.array(ipRange).default([]),
        /** Control-plane VIP (kube-vip). Required unless cluster.controlPlaneEndpoint.mode is external. */
        vip: ipv4.optional(),
        /** Named pools that VM machine groups allocate from. Defaults to none (every group bare metal, with listed addresses); a group naming an undefined pool is refused. */
        pools: z.record(z.string(), ipRange).default({}),
        /** Addresses for LoadBalancer services (MetalLB L2). Defaults to none. */
        loadBalancerPool: ipRange.optional(),
    })
    .strict();

export type NetworkConfig = z.infer<typeof networkConfig>;
