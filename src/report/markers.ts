/**
 * The hidden markers that make the PR comment sticky: one identifies our comment and its gate (a
 * PR may carry several gates, one comment each), the others carry which commit and which workflow
 * run produced it, so a late, older run can tell it must not overwrite a newer one (see
 * src/github/sticky-comment.ts for the ordering rule).
 */

/** The marker of comments written before gates had ids; a gate without an explicit id takes such a comment over. */
export const COMMENT_MARKER = '<!-- prune-gate:comment -->';

/** A gate id: letters, digits, '.', '_' and '-', so it sits safely in an HTML comment, a file name and an output. */
export const GATE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface CommentMeta {
  /** The gate the comment belongs to; absent: the legacy marker. */
  gate?: string;
  /** The PR head commit the report is about. */
  headSha?: string;
  /** The workflow run that measured it (GITHUB_RUN_ID, or workflow_run.id in the comment workflow). */
  runId?: number;
  runAttempt?: number;
}

export function commentMarker(gate?: string): string {
  return gate === undefined ? COMMENT_MARKER : `<!-- prune-gate:comment id=${gate} -->`;
}

export function markerBlock(meta: CommentMeta): string {
  const lines = [commentMarker(meta.gate !== undefined && GATE_ID_PATTERN.test(meta.gate) ? meta.gate : undefined)];
  if (meta.headSha && /^[0-9a-f]{7,64}$/i.test(meta.headSha)) lines.push(`<!-- prune-gate:sha=${meta.headSha.toLowerCase()} -->`);
  if (meta.runId !== undefined && Number.isSafeInteger(meta.runId)) lines.push(`<!-- prune-gate:run=${meta.runId}.${meta.runAttempt ?? 1} -->`);
  return lines.join('\n');
}

/**
 * Whether the body is the comment of `gate` (absent: the legacy marker); with `legacyToo`, a
 * comment with the legacy marker counts too (written before ids existed, by the same single gate).
 */
export function hasCommentMarker(body: string | null | undefined, gate?: string, legacyToo = false): boolean {
  if (typeof body !== 'string') return false;
  return body.includes(commentMarker(gate)) || (legacyToo && body.includes(COMMENT_MARKER));
}

export function parseMarkers(body: string): CommentMeta {
  const meta: CommentMeta = {};
  const gate = /<!-- prune-gate:comment id=([A-Za-z0-9._-]{1,64}) -->/.exec(body);
  if (gate) meta.gate = gate[1];
  const sha = /<!-- prune-gate:sha=([0-9a-f]{7,64}) -->/.exec(body);
  if (sha) meta.headSha = sha[1];
  const run = /<!-- prune-gate:run=(\d+)\.(\d+) -->/.exec(body);
  if (run) {
    meta.runId = Number(run[1]);
    meta.runAttempt = Number(run[2]);
  }
  return meta;
}
