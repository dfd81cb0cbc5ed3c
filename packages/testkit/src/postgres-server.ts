// Postgres clusters of a test's own (owned-server.ts): a fresh initdb each, run by the server
// binaries of the highest PostgreSQL version installed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import {
  ERROR_TAIL_LINES,
  makeTempDir,
  OUTPUT_KEEP_CHARS,
  ProcessServer,
  startOrCleanup,
  tailLines,
  timeoutsOf,
  withFields,
  type OwnedServer,
  type StartOptions,
} from './owned-server';
import { probe } from './probe';
import { signalQuietly } from './process-tree';
import { Reaper } from './reaper';

export type PostgresServer = OwnedServer & { readonly url: string; readonly dataDir: string };

export interface PostgresOptions extends StartOptions {
  /** Extra server settings, passed as `-c name=value`. */
  settings?: Record<string, string | number | boolean>;
}

export const POSTGRES_LIB_DIR = '/usr/lib/postgresql';
const INITDB_TIMEOUT_MS = 60_000;

interface PasswdEntry {
  uid: number;
  gid: number;
  home: string;
}

function lookupUser(name: string): PasswdEntry | undefined {
  let passwd: string;
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 7) {
      return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
    }
  }
  return undefined;
}

/** The `bin` dir of the highest PostgreSQL version under /usr/lib/postgresql. */
export function findPostgresBinDir(): string {
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(POSTGRES_LIB_DIR).filter((v) => fs.existsSync(path.join(POSTGRES_LIB_DIR, v, 'bin', 'postgres')));
  } catch {
    /* none */
  }
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const best = versions[versions.length - 1];
  if (best === undefined) {
    throw new Error(`no PostgreSQL server binaries under ${POSTGRES_LIB_DIR}/*/bin (apt-get install -y postgresql)`);
  }
  return path.join(POSTGRES_LIB_DIR, best, 'bin');
}

function postgresIdentity(): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { env };
  // Postgres refuses to run as root: run it as the `postgres` OS user.
  const pw = lookupUser('postgres');
  if (!pw) throw new Error('running as root but there is no "postgres" OS user (apt-get install -y postgresql)');
  env.HOME = pw.home;
  env.USER = 'postgres';
  env.LOGNAME = 'postgres';
  return { uid: pw.uid, gid: pw.gid, env };
}

function runToCompletion(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs: number; reaper?: Reaper },
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      uid: options.uid,
      gid: options.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.once('spawn', () => options.reaper?.tell(child.pid ?? 0));
    const collect = (c: Buffer): void => {
      out += c.toString('utf8');
      if (out.length > 2 * OUTPUT_KEEP_CHARS) out = out.slice(-OUTPUT_KEEP_CHARS);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const timer = setTimeout(() => {
      signalQuietly(child.pid ?? -1, 'SIGKILL');
      reject(new Error(`${path.basename(command)} timed out after ${options.timeoutMs} ms\n${tailLines(out, ERROR_TAIL_LINES)}`));
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.reaper?.tell(0);
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(command)} failed (${signal ? `signal ${signal}` : `exit code ${String(code)}`})\n${tailLines(out, ERROR_TAIL_LINES)}`));
    });
  });
}

function postgresLocale(): string[] {
  // Same as the machine's cluster (C.UTF-8) where available; plain C otherwise.
  const hasCUtf8 = ['/usr/lib/locale/C.utf8', '/usr/lib/locale/C.UTF-8'].some((p) => fs.existsSync(p));
  return hasCUtf8 ? ['--locale=C.UTF-8'] : ['--no-locale'];
}

/**
 * A fresh cluster (initdb, trust auth, superuser `postgres`, fsync off) on
 * 127.0.0.1:<free port>; `url` is `postgres://postgres@127.0.0.1:<port>/postgres`.
 * Its Unix socket is in `dir`. Data survives stop()/kill()/start().
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBinDir();
  const { uid, gid, env } = postgresIdentity();
  const dir = makeTempDir('lomi-pg');
  const dataDir = path.join(dir, 'data');
  const stopSignal: NodeJS.Signals = 'SIGINT'; // fast shutdown (initdb: clean up and exit)
  const reaper = new Reaper(dir, stopSignal);
  let server: ProcessServer | undefined;
  try {
    if (uid !== undefined && gid !== undefined) fs.chownSync(dir, uid, gid);
    await runToCompletion(path.join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', ...postgresLocale()], {
      cwd: dir,
      env,
      uid,
      gid,
      timeoutMs: INITDB_TIMEOUT_MS,
      reaper,
    });
    const settings = Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${String(v)}`]);
    server = new ProcessServer(
      {
        name: 'postgres',
        command: path.join(bin, 'postgres'),
        args: (port) => ['-D', dataDir, '-p', String(port), '-k', dir, '-h', '127.0.0.1', '-F', ...settings],
        cwd: dir,
        env,
        uid,
        gid,
        stopSignal,
        ready: (port) => postgresReady(dir, port),
        ...timeoutsOf(opts),
      },
      dir,
      reaper,
    );
  } catch (e) {
    reaper.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  await startOrCleanup(server);
  return withFields(server, { url: `postgres://postgres@127.0.0.1:${server.port}/postgres`, dataDir });
}

/**
 * Ready = a startup packet as `postgres` gets ReadyForQuery, first over the
 * Unix socket in our own dir (so it is surely OUR postmaster, which would have
 * exited had it failed to bind 127.0.0.1:port), then over TCP.
 */
async function postgresReady(socketDir: string, port: number): Promise<boolean> {
  return (await pgStartupProbe({ path: path.join(socketDir, `.s.PGSQL.${port}`) })) && pgStartupProbe({ host: '127.0.0.1', port });
}

function pgStartupProbe(connect: net.NetConnectOpts): Promise<boolean> {
  return probe(
    connect,
    (sock) => {
      const params = Buffer.from('user\0postgres\0database\0postgres\0\0', 'utf8');
      const head = Buffer.alloc(8);
      head.writeInt32BE(8 + params.length, 0);
      head.writeInt32BE(196608, 4); // protocol 3.0
      sock.write(Buffer.concat([head, params]));
    },
    (buf, sock) => {
      let off = 0;
      while (buf.length - off >= 5) {
        const type = String.fromCharCode(buf[off] as number);
        const len = buf.readInt32BE(off + 1);
        if (buf.length - off < 1 + len) return undefined;
        if (type === 'E') return false; // e.g. "the database system is starting up"
        if (type === 'R' && buf.readInt32BE(off + 5) !== 0) return false; // wants a password: not our trust cluster
        if (type === 'Z') {
          const terminate = Buffer.from([0x58, 0, 0, 0, 4]); // 'X'
          sock.write(terminate);
          return true;
        }
        off += 1 + len;
      }
      return undefined;
    },
  );
}
