// What the deployment tests (k8s, compose) check a container's environment against: the config
// schema of the service its command runs, the one the service itself validates at start.
import { parseEnv, type z } from '@lomi/service-runtime';
import { migrateEnv } from '@lomi/db';
import { gatewayEnv } from '@lomi/gateway';
import { messageWorkerEnv } from '@lomi/message-worker';
import { moderationWorkerEnv } from '@lomi/moderation-worker';
import { presenceWorkerEnv } from '@lomi/presence-worker';

/** The script each command of the image runs (deploy/Dockerfile), and the schema it reads. */
const PROGRAMS: Record<string, z.ZodObject> = {
  'node_modules/@lomi/gateway/dist/main.js': gatewayEnv,
  'node_modules/@lomi/message-worker/dist/main.js': messageWorkerEnv,
  'node_modules/@lomi/presence-worker/dist/main.js': presenceWorkerEnv,
  'node_modules/@lomi/moderation-worker/dist/main.js': moderationWorkerEnv,
  'node_modules/@lomi/db/dist/migrate-cli.js': migrateEnv,
};

/** The image's script a container command runs, or undefined for a command that runs none of them. */
export function programOf(command: readonly string[]): string | undefined {
  return command.find((arg) => Object.hasOwn(PROGRAMS, arg));
}

/**
 * What is wrong with `env` for `program`: every line the service would print at start, and every
 * variable set by name (`named`) that its schema does not read (a typo the service would ignore).
 */
export function envProblems(program: string, env: Record<string, string>, named: Iterable<string> = []): string[] {
  const schema = PROGRAMS[program]!;
  const problems: string[] = [];
  try {
    parseEnv(schema, env);
  } catch (err) {
    problems.push((err as Error).message);
  }
  for (const name of named) {
    if (!Object.hasOwn(schema.shape, name)) problems.push(`${name}: not read by ${program}`);
  }
  return problems;
}
