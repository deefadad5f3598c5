import { type Finding, putFinding } from '@cxr/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { Launched, dockerfileCommand } from './helpers/launched.js';
import { waitGone } from './helpers/process-tree.js';
import { ServerProcess } from './helpers/server-process.js';
import { createPanel, freePort, tempDir } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';

/**
 * The start commands as users and supervisors run them, stopped the ways they stop them. What
 * is measured is the whole process tree, read from /proc before the signal: every process of it
 * (npm, sh, tini, node) must be gone within 10 s, after the server's orderly stop.
 */
describe('ops: stopping under every supervisor', () => {
  const left: Array<{ killAll(): void }> = [];
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    for (const l of left) l.killAll();
    for (const s of servers) await s.stop('SIGKILL');
  });

  const cases: Array<{ name: string; argv: () => string[]; how: 'group' | 'top'; signal: NodeJS.Signals }> = [
    { name: 'npm start', argv: () => ['npm', 'start'], how: 'group', signal: 'SIGTERM' },
    { name: 'npm start', argv: () => ['npm', 'start'], how: 'top', signal: 'SIGTERM' },
    { name: 'npm start', argv: () => ['npm', 'start'], how: 'group', signal: 'SIGINT' },
    { name: 'npm run serve', argv: () => ['npm', 'run', 'serve'], how: 'top', signal: 'SIGTERM' },
    { name: "the Dockerfile's ENTRYPOINT + CMD", argv: dockerfileCommand, how: 'top', signal: 'SIGTERM' },
  ];

  for (const c of cases) {
    it(`R-OPS-4: ${c.name}, ${c.signal} to the ${c.how === 'group' ? 'process group' : 'top process only'}: the tree is gone within 10 s and nothing acknowledged is lost`, async () => {
      const dataDir = tempDir('cxr-signals-');
      const argv = c.argv();
      const env: Record<string, string> = { DATA_DIR: dataDir };
      if (argv[0] !== 'npm') env.NODE_ENV = 'production';
      const run = await Launched.start(argv, await freePort(), env);
      left.push(run);
      const panel = await createPanel(run, { readers: 1 });
      const scan = panel.scanIds[0]!;
      const reader = panel.readers[0]!;
      const writer = new TestClient(run.url, panel.sessionId, scan, reader.token);
      const watcher = new TestClient(run.url, panel.sessionId, scan, panel.moderator.token);
      await until(() => writer.synced && watcher.synced, 10_000, 'sync');
      const finding: Finding = {
        id: `before-${c.signal}-${c.how}`,
        labels: ['Pleural effusion'],
        box: { x_min: 10, y_min: 20, x_max: 110, y_max: 220 },
        createdBy: reader.id,
        updatedBy: reader.id,
        updatedAt: 1,
      };
      putFinding(writer.doc, finding);
      // Acknowledged: another client has it from the server.
      await until(() => watcher.doc.getMap('findings').has(finding.id), 10_000, 'broadcast');

      const tree = run.tree();
      expect(
        tree.some((p) => p.command.includes('server/src/cli.ts serve')),
        JSON.stringify(tree),
      ).toBe(true);
      if (c.how === 'group') run.signalGroup(c.signal);
      else run.signalTop(c.signal);
      const gone = await waitGone(tree, 10_000);
      console.log(
        `${c.name}, ${c.signal} to the ${c.how}: ${tree.length} processes (${tree
          .map((p) => p.command.split(' ')[0]!.split('/').pop())
          .join(' > ')}) gone in ${gone.ms} ms`,
      );
      expect(gone.left, run.output).toEqual([]);
      // The server ran its orderly stop, and told its clients to reconnect (4503).
      expect(run.output).toContain('"msg":"stopped"');
      expect(run.output).not.toContain('timed out');
      expect((await writer.closedByServer()).code).toBe(4503);
      expect((await watcher.closedByServer()).code).toBe(4503);
      writer.destroy();
      watcher.destroy();

      const again = new ServerProcess(await freePort(), { DATA_DIR: dataDir });
      servers.push(again);
      await again.start();
      const reader2 = new TestClient(again.url, panel.sessionId, scan, panel.moderator.token);
      await until(() => reader2.synced, 10_000, 'sync after restart');
      expect(reader2.doc.getMap('findings').get(finding.id)).toEqual(finding);
      reader2.destroy();
      await again.stop();
    }, 90_000);
  }
});
