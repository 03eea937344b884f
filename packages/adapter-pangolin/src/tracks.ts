import type { OutputTrack } from '@metaspliceai/core';

/** Pangolin's tissues, in the order of its heads (upstream `scripts/custom_usage.py`). */
export const PANGOLIN_TISSUES = ['heart', 'liver', 'brain', 'testis'] as const;
export type PangolinTissue = (typeof PANGOLIN_TISSUES)[number];

/** One of Pangolin's 8 output heads: `conv_last<head + 1>` and the track it gives. */
export interface PangolinHead {
  /** 0..7, the `i` of `final.<replicate>.<i>.3.v2`. */
  readonly index: number;
  /** `conv_last<index + 1>` in the state dict. */
  readonly layer: string;
  /** 2: a softmax over (not a site, a site); 1: a sigmoid (usage). */
  readonly outputs: 1 | 2;
  /** The channel of the head's own output that is its track (P(site) for the softmax heads). */
  readonly channel: number;
  readonly track: OutputTrack;
}

/**
 * Upstream's INDEX_MAP: head i's track is channel `{0:1, 1:2, 2:4, 3:5, 4:7, 5:8, 6:10, 7:11}[i]`
 * of the 12 concatenated head outputs `[sm1_0, sm1_1, sig2, sm3_0, sm3_1, sig4, ...]`.
 */
const INDEX_MAP = [1, 2, 4, 5, 7, 8, 10, 11] as const;

/** The 8 heads: even ones P(splice) per tissue (2-class softmax), odd ones usage (sigmoid). */
export const PANGOLIN_HEADS: readonly PangolinHead[] = Object.freeze(
  INDEX_MAP.map((globalChannel, index) => {
    const tissue = PANGOLIN_TISSUES[index >> 1];
    const outputs = index % 2 === 0 ? 2 : 1;
    // Where this head's block starts among the 12 channels: 3 per tissue (2 softmax + 1 sigmoid).
    const start = 3 * (index >> 1) + (index % 2 === 0 ? 0 : 2);
    const track: OutputTrack =
      outputs === 2
        ? Object.freeze({ name: `p_splice_${tissue}`, kind: 'site-probability', site: 'any', tissue })
        : Object.freeze({ name: `usage_${tissue}`, kind: 'usage', site: 'any', tissue });
    return Object.freeze({ index, layer: `conv_last${index + 1}`, outputs, channel: globalChannel - start, track } as PangolinHead);
  }),
);

/** The tracks of a whole set, in head order: `p_splice_heart, usage_heart, ..., usage_testis`. */
export const PANGOLIN_TRACKS: readonly OutputTrack[] = Object.freeze(PANGOLIN_HEADS.map((h) => h.track));
