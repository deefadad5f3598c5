import { type Finding, type GlobalLabel, type LocalLabel, proposeGlobal, putFinding } from '@cxr/shared';
import type { RunningServer } from '../src/main.js';
import type { Member, Panel } from './helpers/test-server.js';
import { TestClient, until } from './helpers/yjs-client.js';

/** A reader's drawing: labels and box, plus global labels, written through a real client. */
export interface Drawing {
  findings: Array<{ id: string; labels: LocalLabel[]; box: [number, number, number, number] }>;
  globals: GlobalLabel[];
}

/** Draws through y-websocket as `reader` and waits until the server's document has it all. */
export async function draw(
  server: RunningServer,
  sessionId: string,
  scanId: string,
  reader: Member,
  drawing: Drawing,
): Promise<void> {
  const client = new TestClient(server.url, sessionId, scanId, reader.token);
  await until(() => client.synced, 5000, 'sync');
  client.doc.transact(() => {
    for (const f of drawing.findings) {
      const [x_min, y_min, x_max, y_max] = f.box;
      const finding: Finding = {
        id: f.id,
        labels: f.labels,
        box: { x_min, y_min, x_max, y_max },
        createdBy: reader.id,
        updatedBy: reader.id,
        updatedAt: 1,
      };
      putFinding(client.doc, finding);
    }
    for (const g of drawing.globals) proposeGlobal(client.doc, g, reader.id);
  });
  await until(
    () => {
      const doc = server.rooms.loaded({ sessionId, scanId })?.doc;
      return (
        doc !== undefined &&
        doc.getMap('findings').size === drawing.findings.length &&
        doc.getMap('globals').size === drawing.globals.length
      );
    },
    5000,
    'the server to store the drawing',
  );
  if (client.closes.length > 0) throw new Error(`drawing refused: ${JSON.stringify(client.closes)}`);
  client.destroy();
}

/** Locks a scan as the panel's moderator; returns the record's sha256 and version. */
export async function lock(panel: Panel, sessionId: string, scanId: string) {
  const res = await panel.api
    .as(panel.moderator.token)
    .call('POST', `/api/sessions/${sessionId}/scans/${scanId}/lock`);
  if (res.status !== 200) throw new Error(`lock: ${res.status} ${JSON.stringify(res.body)}`);
  return { sha256: String(res.body.sha256), version: Number(res.body.version), record: res.body.record };
}

/** GETs a path with a token; status, headers, text and bytes. */
export async function get(server: RunningServer, token: string | undefined, path: string) {
  const res = await fetch(server.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: new TextDecoder().decode(bytes) };
}
