/**
 * Copies one image from an OCI layout into a registry repository: blobs first (skipping those the
 * registry already has, so an interrupted seed resumes where it stopped), then the manifest
 * (for an index, each platform's manifest that the archive holds before the index). The digest
 * the registry reports for the manifest must equal the archive's.
 */
import { Descriptor, OciLayout } from "./oci-layout";
import { RegistryClient } from "./registry-client";

export interface CopyStats {
    blobs: number;
    uploaded: number;
    uploadedBytes: number;
    present: number;
    /** The manifest was already there with the same digest: nothing was written. */
    unchanged: boolean;
}

const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);

async function copyManifest(layout: OciLayout, client: RegistryClient, repo: string, reference: string, desc: Descriptor, stats: CopyStats, seen: Set<string>): Promise<void> {
    const bytes = layout.blob(desc.digest);
    const manifest = JSON.parse(bytes.toString()) as { mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
    const mediaType = desc.mediaType ?? manifest.mediaType;
    if (INDEX_TYPES.has(mediaType)) {
        // Platforms the archive does not hold are left out of the copy: the registry refuses an index whose children are missing.
        for (const child of manifest.manifests ?? []) {
            if (layout.has(child.digest)) await copyManifest(layout, client, repo, child.digest, child, stats, seen);
        }
    } else {
        for (const d of [manifest.config, ...(manifest.layers ?? [])]) {
            if (!d || seen.has(d.digest)) continue;
            seen.add(d.digest);
            stats.blobs++;
            if (await client.hasBlob(repo, d.digest)) {
                stats.present++;
                continue;
            }
            const data = layout.blob(d.digest);
            await client.putBlob(repo, d.digest, data);
            stats.uploaded++;
            stats.uploadedBytes += data.length;
        }
    }
    const digest = await client.putManifest(repo, reference, bytes, mediaType);
    if (digest && digest !== desc.digest) throw new Error(`${repo}:${reference}: the registry stored digest ${digest}, the archive has ${desc.digest}`);
}

/** Copies the image `desc` to `repo:tag`; returns what was uploaded and what was already there. */
export async function copyImage(layout: OciLayout, client: RegistryClient, desc: Descriptor, repo: string, tag: string): Promise<CopyStats> {
    const stats: CopyStats = { blobs: 0, uploaded: 0, uploadedBytes: 0, present: 0, unchanged: false };
    if ((await client.manifestDigest(repo, tag)) === desc.digest) {
        stats.unchanged = true;
        return stats;
    }
    await copyManifest(layout, client, repo, tag, desc, stats, new Set());
    return stats;
}
