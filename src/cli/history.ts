/** `prune-gate history add|render`: the default branch's performance history, from the command line. */
import { InvalidArgumentError, type Command } from 'commander';
import { appendToStoreFile, entryWithModelHash, headCommit, HISTORY_CAP, readStoreFile, renderHistoryPage } from '../history/index.js';
import { readReport } from '../report/validate.js';
import { runAction } from './command-runner.js';

interface AddOptions {
  store: string;
  commit?: string;
  time?: string;
  branch?: string;
  cap: number;
}

export function registerHistoryCommand(program: Command): void {
  const history = program.command('history').description("The default branch's performance history: a JSON store of one entry per commit, and a static page of charts.");
  history
    .command('add')
    .description('Append the run in REPORT (a report.json, or the folder holding it) to the store; earlier entries are never changed.')
    .argument('<report>', 'report.json, or the folder holding it')
    .requiredOption('-s, --store <file>', 'history store (JSON; created when missing)')
    .option('--commit <sha>', 'commit the report measured (default: git HEAD)')
    .option('--time <iso>', "commit time, ISO 8601 (default: HEAD's committer time)")
    .option('--branch <name>', 'branch the commit is on (default: the current branch)')
    .option('--cap <n>', `entries kept; beyond it the oldest are dropped (default ${HISTORY_CAP})`, positiveInt, HISTORY_CAP)
    .action(
      runAction((reportPath: string, opts: AddOptions) => {
        const report = readReport(reportPath);
        const git = opts.commit ? undefined : headCommit();
        const time = opts.time ?? git?.time;
        const branch = opts.branch ?? git?.branch;
        const entry = entryWithModelHash(report, { commit: opts.commit ?? git!.commit, ...(time ? { time } : {}), ...(branch ? { branch } : {}) });
        const result = appendToStoreFile(opts.store, entry, opts.cap);
        if (!result.appended) process.stdout.write(`${opts.store}: not appended: ${result.reason}\n`);
        else process.stdout.write(`${opts.store}: appended ${entry.commit.slice(0, 12)} (${result.store.entries.length} entries${result.dropped ? `, ${result.dropped} oldest dropped at the cap of ${opts.cap}` : ''})\n`);
      }),
    );
  history
    .command('render')
    .description('Write a static page of the history (index.html, its data and the chart library) into a folder; open it from disk or publish it with GitHub Pages.')
    .requiredOption('-s, --store <file>', 'history store (JSON)')
    .requiredOption('-o, --out <dir>', 'folder to write the page into')
    .action(
      runAction((opts: { store: string; out: string }) => {
        const store = readStoreFile(opts.store);
        renderHistoryPage(store, opts.out);
        process.stdout.write(`wrote ${opts.out}/index.html: ${store.entries.length} entries\n`);
      }),
    );
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1.');
  return n;
}
