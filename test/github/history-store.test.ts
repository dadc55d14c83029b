/** The store on a branch, against the local GitHub server: conflicts of every kind GitHub answers with. */
import { createGitHubClient } from '../../src/github/client.js';
import { appendToRemoteStore, readRemoteStore } from '../../src/github/history-store.js';
import { entryFromReport, parseStore, serializeStore } from '../../src/history/index.js';
import { passReport } from '../report/fixtures.js';
import { FakeGitHub } from '../helpers/fake-github-server.js';

let gh: FakeGitHub;
beforeEach(async () => {
  gh = new FakeGitHub();
  await gh.start();
});
afterEach(() => gh.stop());

const client = () => createGitHubClient({ token: 'bot-token', baseUrl: gh.baseUrl, retryBaseMs: 1, spaceWrites: false });
const entry = (c: string) => entryFromReport(passReport(), { commit: c.repeat(40 / c.length), time: '2026-11-01T00:00:00Z' });
const at = { owner: 'acme', repo: 'models', branch: 'data', path: 'history.json', retryDelayMs: 1 };
const text = () => gh.contents.readFile('acme', 'models', 'data', 'history.json')!;
const commitsIn = () => parseStore(text(), 'history.json').entries.map((e) => e.commit[0]);

test('a file created by a racer after we saw none: 422, read again, append after it', async () => {
  gh.contents.writeFile('acme', 'models', 'data', 'README.md', 'data branch');
  gh.contents.beforeNextPut = () => gh.contents.writeFile('acme', 'models', 'data', 'history.json', serializeStore({ schemaVersion: 1, entries: [entry('b')] }));
  const r = await appendToRemoteStore(client(), { ...at, entry: entry('a') });
  expect(r).toMatchObject({ appended: true, attempts: 2, entries: 2, createdBranch: false });
  expect(gh.requests.filter((q) => q.method === 'PUT').map((q) => q.status)).toEqual([422, 200]);
  expect(commitsIn()).toEqual(['b', 'a']);
});

test('two racers creating the missing branch: the loser reads the winner and appends', async () => {
  // Our createRef loses: the branch appears between our read (404) and our write.
  const real = gh.contents.handle.bind(gh.contents);
  let raced = false;
  gh.contents.handle = (method, url, raw, send) => {
    if (!raced && method === 'POST' && url.pathname.endsWith('/git/refs')) {
      raced = true;
      gh.contents.writeFile('acme', 'models', 'data', 'history.json', serializeStore({ schemaVersion: 1, entries: [entry('c')] }));
    }
    return real(method, url, raw, send);
  };
  const r = await appendToRemoteStore(client(), { ...at, entry: entry('a') });
  expect(r).toMatchObject({ appended: true, attempts: 2, entries: 2 });
  expect(commitsIn()).toEqual(['c', 'a']);
});

test('a branch that never settles: gives up after maxAttempts with a clear message', async () => {
  gh.contents.writeFile('acme', 'models', 'data', 'history.json', serializeStore({ schemaVersion: 1, entries: [] }));
  let n = 0;
  const race = () => {
    gh.contents.writeFile('acme', 'models', 'data', 'history.json', serializeStore({ schemaVersion: 1, entries: [entry(String(++n))] }));
    gh.contents.beforeNextPut = race;
  };
  gh.contents.beforeNextPut = race;
  await expect(appendToRemoteStore(client(), { ...at, entry: entry('a'), maxAttempts: 3 })).rejects.toThrow('data:history.json kept changing under us: gave up after 3 attempts');
  expect(gh.requests.filter((q) => q.method === 'PUT').map((q) => q.status)).toEqual([409, 409, 409]);
});

test('the cap drops the oldest entries; a commit already recorded is not appended again', async () => {
  const c = client();
  for (const x of ['1', '2', '3']) await appendToRemoteStore(c, { ...at, entry: entry(x), cap: 2 });
  expect(commitsIn()).toEqual(['2', '3']);
  const again = await appendToRemoteStore(c, { ...at, entry: entry('3'), cap: 2 });
  expect(again).toMatchObject({ appended: false, reason: expect.stringContaining('already recorded') });
  expect((await readRemoteStore(c, at)).store.entries).toHaveLength(2);
});
