/**
 * The hidden markers that make the PR comment sticky: one identifies our comment, the others carry
 * which commit and which workflow run produced it, so a late, older run can tell it must not
 * overwrite a newer one (see src/github/sticky-comment.ts for the ordering rule).
 */
export const COMMENT_MARKER = '<!-- prune-gate:comment -->';

export interface CommentMeta {
  /** The PR head commit the report is about. */
  headSha?: string;
  /** The workflow run that measured it (GITHUB_RUN_ID, or workflow_run.id in the comment workflow). */
  runId?: number;
  runAttempt?: number;
}

export function markerBlock(meta: CommentMeta): string {
  const lines = [COMMENT_MARKER];
  if (meta.headSha && /^[0-9a-f]{7,64}$/i.test(meta.headSha)) lines.push(`<!-- prune-gate:sha=${meta.headSha.toLowerCase()} -->`);
  if (meta.runId !== undefined && Number.isSafeInteger(meta.runId)) lines.push(`<!-- prune-gate:run=${meta.runId}.${meta.runAttempt ?? 1} -->`);
  return lines.join('\n');
}

export function hasCommentMarker(body: string | null | undefined): boolean {
  return typeof body === 'string' && body.includes(COMMENT_MARKER);
}

export function parseMarkers(body: string): CommentMeta {
  const meta: CommentMeta = {};
  const sha = /<!-- prune-gate:sha=([0-9a-f]{7,64}) -->/.exec(body);
  if (sha) meta.headSha = sha[1];
  const run = /<!-- prune-gate:run=(\d+)\.(\d+) -->/.exec(body);
  if (run) {
    meta.runId = Number(run[1]);
    meta.runAttempt = Number(run[2]);
  }
  return meta;
}
