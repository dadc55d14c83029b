/** The performance history of the default branch: entries from reports, the store file, the trend, the page. */
export * from './types.js';
export { entryFromReport, type EntryContext } from './entry.js';
export { appendEntry, emptyStore, historyProblems, parseStore, readStoreFile, serializeStore, type AppendResult } from './store.js';
export { appendToStoreFile, entryWithModelHash } from './add.js';
export { headCommit, type CommitInfo } from './git.js';
export { trendFor, TREND_LENGTH } from './trend.js';
export { renderHistoryPage, DATA_FILE } from './render.js';
