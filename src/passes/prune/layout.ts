/**
 * How pruned channels sit inside a tensor. A "space" is a set of channels that a producer (Conv,
 * Gemm, MatMul...) creates; a value carries a Layout: along one axis, segments of positions each
 * owned by a run of some space's channels. Concat shifts offsets, Flatten widens blocks (a channel
 * owns H*W columns), an attention Reshape groups head_dim channels into one head position.
 *
 * Channel c of a segment occupies positions
 *   offset + floor((c - first) / per) * block  ...  + block - 1
 * (per > 1 only after a head split: `per` channels share one head position).
 */
export interface Segment {
  space: number;
  first: number;
  count: number;
  offset: number;
  block: number;
  per: number;
}

export interface Layout {
  axis: number;
  rank: number;
  /** Length of the axis (tracked and untracked positions). */
  size: number;
  segments: Segment[];
}

export function wholeSpace(space: number, channels: number): Segment {
  return { space, first: 0, count: channels, offset: 0, block: 1, per: 1 };
}

/** Positions (along the layout's axis) that channel `c` occupies in the segment, or [] when c is outside it. */
export function positionsOf(seg: Segment, c: number): number[] {
  if (c < seg.first || c >= seg.first + seg.count) return [];
  const start = seg.offset + Math.floor((c - seg.first) / seg.per) * seg.block;
  return Array.from({ length: seg.block }, (_, k) => start + k);
}

export function sameStructure(a: Layout, b: Layout): boolean {
  if (a.size !== b.size || a.segments.length !== b.segments.length) return false;
  return a.segments.every((s, i) => {
    const t = b.segments[i];
    return s.first === t.first && s.count === t.count && s.offset === t.offset && s.block === t.block && s.per === t.per;
  });
}

/** The part of a layout's segments inside positions [lo, hi), shifted so lo becomes 0; undefined when a channel straddles the range. */
export function clipSegments(segments: Segment[], lo: number, hi: number): Segment[] | undefined {
  const out: Segment[] = [];
  for (const s of segments) {
    const width = Math.ceil(s.count / s.per) * s.block;
    const a = Math.max(lo, s.offset);
    const b = Math.min(hi, s.offset + width);
    if (a >= b) continue;
    if ((a - s.offset) % s.block !== 0 || (b - s.offset) % s.block !== 0) return undefined;
    if (s.per !== 1) return undefined;
    out.push({ ...s, first: s.first + (a - s.offset) / s.block, count: (b - a) / s.block, offset: a - lo });
  }
  return out;
}
