import { createHash } from 'node:crypto';
import { TargetSchema, VoteChoiceSchema } from '@cxr/shared';
import { z } from 'zod';
import type {
  CastOutcome,
  CommandCache,
  FinishOutcome,
  LiveStores,
  LiveVote,
  PresenceEntry,
  PresenceStore,
  VoteStore,
} from './live-store.js';

/** The one thing we need of a Redis client (node-redis 5 has it), so tests can pass any client. */
export interface RedisCommands {
  sendCommand(args: readonly string[]): Promise<unknown>;
}

/** A Lua script run by EVALSHA, falling back to EVAL when Redis lost its script cache (a restart). */
class Script {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
  async run(client: RedisCommands, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await client.sendCommand(['EVALSHA', this.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.sendCommand(['EVAL', this.source, ...tail]);
    }
  }
}

// KEYS: meta, ballots. ARGV: meta JSON, ballots JSON, ttl ms. Writes only when absent, so two
// nodes rebuilding the same vote at once cannot undo casts recorded in between.
const RESTORE = new Script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local meta = cjson.decode(ARGV[1])
for k, v in pairs(meta) do redis.call('HSET', KEYS[1], k, v) end
local ballots = cjson.decode(ARGV[2])
for k, v in pairs(ballots) do redis.call('HSET', KEYS[2], k, v) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1
`);

// KEYS: meta, ballots. ARGV: reader, choice, current version, ttl ms.
// "Is it open, is the version current, record, tally" in one step: nothing can slip between.
const CAST = new Script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'open' then return {state, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])} end
if redis.call('HGET', KEYS[1], 'targetVersion') ~= ARGV[3] then
  return {'stale', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {'ok', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`);

// KEYS: meta, ballots. ARGV: mode (close|void), override outcome or '', reason or '', closedAt.
// Closing counts the ballots inside the script, so the outcome matches the final tally exactly.
const FINISH = new Script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then
  return {'not_open', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
end
if ARGV[1] == 'close' then
  local outcome, overridden = ARGV[2], '1'
  if outcome == '' then
    overridden = '0'
    local agree = 0
    for _, v in ipairs(redis.call('HVALS', KEYS[2])) do if v == 'agree' then agree = agree + 1 end end
    if agree >= tonumber(redis.call('HGET', KEYS[1], 'quorum')) then outcome = 'accepted' else outcome = 'rejected' end
  end
  redis.call('HSET', KEYS[1], 'state', 'closed', 'outcome', outcome, 'overridden', overridden)
else
  redis.call('HSET', KEYS[1], 'state', 'void')
end
redis.call('HSET', KEYS[1], 'reason', ARGV[3], 'closedAt', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'seq', 1)
return {'ok', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`);

// KEYS: zset by last heartbeat, hash conn -> entry. ARGV: cutoff score.
// Expired connections leave both structures in one step; what remains is returned.
const PRESENCE_LIST = new Script(`
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
  redis.call('HDEL', KEYS[2], unpack(expired))
end
return redis.call('HGETALL', KEYS[2])
`);

// KEYS: zset, hash. ARGV: key ttl ms, then (connId, score, entry JSON) triples.
const PRESENCE_UPSERT = new Script(`
for i = 2, #ARGV, 3 do
  redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
`);

const StringArray = z.array(z.string());
const ScriptReply = z.union([
  z.tuple([z.literal('missing')]),
  z.tuple([z.enum(['ok', 'open', 'closed', 'void', 'stale', 'not_open']), StringArray, StringArray]),
]);

const MetaSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  scanId: z.string(),
  target: z.string().transform((text, ctx) => {
    const parsed = TargetSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: 'bad target' });
      return z.NEVER;
    }
    return parsed.data;
  }),
  targetVersion: z.string(),
  quorum: z.coerce.number().int(),
  openedAt: z.coerce.number(),
  state: z.enum(['open', 'closed', 'void']),
  outcome: z
    .enum(['accepted', 'rejected', ''])
    .optional()
    .transform((v) => (v ? v : null)),
  overridden: z
    .enum(['0', '1'])
    .optional()
    .transform((v) => v === '1'),
  reason: z
    .string()
    .optional()
    .transform((v) => (v ? v : null)),
  closedAt: z
    .string()
    .optional()
    .transform((v) => (v ? Number(v) : null)),
  seq: z.coerce.number().int(),
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function pairs(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] ?? ''] = flat[i + 1] ?? '';
  return out;
}

function toVote(metaFlat: readonly string[], ballotsFlat: readonly string[]): LiveVote {
  const meta = MetaSchema.parse(pairs(metaFlat));
  const ballots: Record<string, z.infer<typeof VoteChoiceSchema>> = {};
  for (const [reader, choice] of Object.entries(pairs(ballotsFlat)))
    ballots[reader] = VoteChoiceSchema.parse(choice);
  return { ...meta, ballots };
}

const PresenceEntrySchema = z.object({
  connId: z.string(),
  userId: z.string(),
  username: z.string(),
  role: z.enum(['moderator', 'reader', 'observer']),
  globalRole: z.enum(['admin', 'moderator', 'reader']),
  scanId: z.string().nullable(),
  following: z.boolean(),
  lastSeen: z.number(),
});

/**
 * The Redis back end. Key layout (every key under `prefix`; `{...}` hash tags keep a vote's or a
 * session's keys in one cluster slot):
 * - `vote:{id}` hash of the vote's fields, `vote:{id}:b` hash reader -> choice;
 * - `presence:{sessionId}` sorted set conn -> last heartbeat (ms), `presence:{sessionId}:c` hash
 *   conn -> entry JSON;
 * - `cmd:<user>:<commandId>` the answer to a command, for retries.
 */
export function createRedisLiveStores(
  client: RedisCommands,
  options: { prefix: string; presenceTtlMs: number; commandTtlMs: number; voteTtlMs?: number },
): LiveStores {
  const voteTtl = String(options.voteTtlMs ?? 7 * 24 * 3600_000);
  const voteKeys = (id: string) => [`${options.prefix}vote:{${id}}`, `${options.prefix}vote:{${id}}:b`];
  const presenceKeys = (sessionId: string) => [
    `${options.prefix}presence:{${sessionId}}`,
    `${options.prefix}presence:{${sessionId}}:c`,
  ];

  const castLike = (reply: unknown): CastOutcome => {
    const parsed = ScriptReply.parse(reply);
    if (parsed[0] === 'missing') return { status: 'missing' };
    const vote = toVote(parsed[1], parsed[2]);
    if (parsed[0] === 'ok') return { status: 'ok', vote };
    if (parsed[0] === 'closed' || parsed[0] === 'void' || parsed[0] === 'stale')
      return { status: parsed[0], vote };
    throw new Error(`unexpected cast reply ${parsed[0]}`);
  };

  const votes: VoteStore = {
    async restore(vote) {
      // Every field as text, so Lua's number formatting never touches our values.
      const meta: Record<string, string> = {
        id: vote.id,
        sessionId: vote.sessionId,
        scanId: vote.scanId,
        target: JSON.stringify(vote.target),
        targetVersion: vote.targetVersion,
        quorum: String(vote.quorum),
        openedAt: String(vote.openedAt),
        state: vote.state,
        outcome: vote.outcome ?? '',
        overridden: vote.overridden ? '1' : '0',
        reason: vote.reason ?? '',
        closedAt: vote.closedAt === null ? '' : String(vote.closedAt),
        seq: String(vote.seq),
      };
      const { ballots } = vote;
      await RESTORE.run(client, voteKeys(vote.id), [JSON.stringify(meta), JSON.stringify(ballots), voteTtl]);
    },
    async get(id) {
      const [meta, ballots] = voteKeys(id);
      const metaFlat = StringArray.parse(await client.sendCommand(['HGETALL', meta ?? '']));
      if (metaFlat.length === 0) return undefined;
      const ballotsFlat = StringArray.parse(await client.sendCommand(['HGETALL', ballots ?? '']));
      return toVote(metaFlat, ballotsFlat);
    },
    async cast(id, reader, choice, currentVersion) {
      return castLike(await CAST.run(client, voteKeys(id), [reader, choice, currentVersion, voteTtl]));
    },
    async finish(id, request): Promise<FinishOutcome> {
      const args =
        request.mode === 'close'
          ? ['close', request.override?.outcome ?? '', request.override?.reason ?? request.reason ?? '']
          : ['void', '', request.reason];
      const parsed = ScriptReply.parse(
        await FINISH.run(client, voteKeys(id), [...args, String(request.closedAt)]),
      );
      if (parsed[0] === 'missing') return { status: 'missing' };
      const vote = toVote(parsed[1], parsed[2]);
      return parsed[0] === 'ok' ? { status: 'ok', vote } : { status: 'not_open', vote };
    },
  };

  const presence: PresenceStore = {
    async upsert(sessionId, entries) {
      if (entries.length === 0) return;
      const args = [String(options.presenceTtlMs * 4)];
      for (const entry of entries) args.push(entry.connId, String(entry.lastSeen), JSON.stringify(entry));
      await PRESENCE_UPSERT.run(client, presenceKeys(sessionId), args);
    },
    async remove(sessionId, connIds) {
      if (connIds.length === 0) return;
      const [zset, hash] = presenceKeys(sessionId);
      await client.sendCommand(['ZREM', zset ?? '', ...connIds]);
      await client.sendCommand(['HDEL', hash ?? '', ...connIds]);
    },
    async list(sessionId, now) {
      const reply = await PRESENCE_LIST.run(client, presenceKeys(sessionId), [
        String(now - options.presenceTtlMs),
      ]);
      const out: PresenceEntry[] = [];
      for (const text of Object.values(pairs(StringArray.parse(reply)))) {
        const parsed = PresenceEntrySchema.safeParse(safeJson(text));
        if (parsed.success) out.push(parsed.data);
      }
      return out;
    },
  };

  const commands: CommandCache = {
    async recall(key) {
      const value = await client.sendCommand(['GET', `${options.prefix}cmd:${key}`]);
      return typeof value === 'string' ? value : undefined;
    },
    async remember(key, value) {
      await client.sendCommand([
        'SET',
        `${options.prefix}cmd:${key}`,
        value,
        'PX',
        String(options.commandTtlMs),
      ]);
    },
  };

  return { votes, presence, commands, kind: 'redis' };
}
