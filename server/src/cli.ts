#!/usr/bin/env -S npx tsx
import { RoleSchema, UsernameSchema, PasswordSchema } from '@cxr/shared';
import { Command } from 'commander';
import { passwordProblem } from './auth/password-rules.js';
import { hashPassword } from './auth/passwords.js';
import { registerExportCommand } from './cli/export-command.js';
import { registerImportCommand } from './cli/import-command.js';
import { type Config, configFromProcess } from './config.js';
import { openStores } from './db/stores.js';
import { seedDemo } from './demo.js';
import { createLogger } from './logger.js';
import { startServer } from './main.js';
import { registerBackupCommands } from './ops/backup.js';
import { applyGcTuning } from './ops/gc-tuning.js';
import { shutdownOnSignal } from './ops/shutdown.js';
import path from 'node:path';

function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  const result = configFromProcess(overrides);
  if (!result.ok) {
    console.error(`configuration error:\n  ${result.problems.join('\n  ')}`);
    process.exit(2);
  }
  return result.config;
}

const program = new Command('cxr').description(
  'cxr-consensus: collaborative consensus reading of chest X-rays',
);

program
  .command('serve')
  .description('start the HTTP and WebSocket server')
  .option('--demo', 'create demo users, scans and a session, and print the log-ins')
  .action(async (opts: { demo?: boolean }) => {
    const config = loadConfig(opts.demo ? { DEMO_DATA: 'true' } : {});
    const log = createLogger(config.logLevel);
    applyGcTuning({ parallelScavenge: config.gcParallelScavenge });
    const starting = startServer(config, { log });
    // Installed before the server is up: a stop asked for during start-up waits for it, then
    // runs the same orderly shutdown, instead of killing a half-written demo seed.
    let started: Awaited<typeof starting> | undefined;
    const onSignal = shutdownOnSignal({
      close: async () => (await starting).close(),
      pending: () => started?.shutdownPending() ?? ['start-up'],
      timeoutMs: config.shutdownTimeoutMs,
      log,
      exit: (code) => process.exit(code),
    });
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    const server = await starting;
    started = server;
    if (config.demoData) {
      const logins = await seedDemo(server.stores, log, {
        dataDir: config.dataDir,
        importer: server.dicom.importer,
        say: (line) => console.log(line),
      });
      const lines = logins.map((l) => `    ${l.role.padEnd(10)} ${l.username.padEnd(10)} ${l.password}`);
      console.log(`\ncxr-consensus is running at ${server.url}\n\n  Demo log-ins:\n${lines.join('\n')}\n`);
    } else {
      console.log(`cxr-consensus is running at ${server.url}`);
    }
    // A bug that escapes every handler still ends the process, but never silently.
    process.on('uncaughtException', (error) => {
      log.fatal({ err: error }, 'uncaught exception; exiting');
      process.exit(1);
    });
  });

program
  .command('add-user')
  .description('add a user (admin, moderator or reader)')
  .argument('<username>')
  .requiredOption('--role <role>', 'admin | moderator | reader')
  .requiredOption('--password <password>', 'at least 8 characters')
  .action(async (username: string, opts: { role: string; password: string }) => {
    const config = loadConfig();
    const checks = [
      UsernameSchema.safeParse(username),
      RoleSchema.safeParse(opts.role),
      PasswordSchema.safeParse(opts.password),
    ];
    const problems = checks.flatMap((c) => (c.success ? [] : c.error.issues.map((i) => i.message)));
    const weak = passwordProblem(username, opts.password);
    if (weak) problems.push(weak);
    if (problems.length > 0) {
      console.error(`cannot add user: ${problems.join('; ')}`);
      process.exit(2);
    }
    const stores = await openStores({
      databaseUrl: config.databaseUrl,
      sqliteFile: path.join(config.dataDir, 'cxr.sqlite'),
      ...(config.databaseSchema ? { pgSchema: config.databaseSchema } : {}),
    });
    try {
      if (await stores.users.byUsername(username)) {
        console.error(`cannot add user: ${username} exists`);
        process.exitCode = 1;
        return;
      }
      const user = await stores.users.create({
        username,
        role: RoleSchema.parse(opts.role),
        passwordHash: await hashPassword(opts.password),
      });
      console.log(`added ${user.role} ${user.username} (${user.id})`);
    } finally {
      await stores.db.close();
    }
  });

registerImportCommand(program, () => loadConfig());
registerExportCommand(program, () => loadConfig());
registerBackupCommands(program, () => loadConfig());

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
