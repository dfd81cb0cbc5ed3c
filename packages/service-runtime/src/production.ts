// What a production deployment (LOMI_ENV=production) must not run with: the development
// credentials `pnpm start` falls back to, values that look like a placeholder someone forgot to
// replace ("change-me", "replace-with-…"), the development servers the URLs default to, or a
// development-only switch (the demo web client and its token endpoint).

/** Development-only credentials, used by `pnpm start` when none are configured so a fresh clone runs at once. */
export const DEV_CREDENTIALS = {
  JWT_SECRET: 'lomi-dev-only-jwt-secret-change-me-0000',
  SERVICE_TOKEN: 'lomi-dev-only-service-token-change-me',
} as const;

/** Variables holding a secret of their own. */
const SECRETS = ['JWT_SECRET', 'SERVICE_TOKEN', 'OFFLINE_WEBHOOK_SECRET'];
/**
 * Development-only switches, with when a value turns one on: the demo token endpoint lets anyone
 * be any user, and the demo web client has no place in a deployment.
 */
const DEV_ONLY: Record<string, (value: string) => boolean> = {
  DEV_TOKENS: (v) => !/^(false|0|no|off|n|disabled)?$/i.test(v.trim()),
  WEB_CLIENT_DIR: (v) => v !== '',
};
/** Variables naming a server, whose default is the development one and whose password may be in the URL. */
const SERVERS = ['NATS_URL', 'REDIS_URL', 'DATABASE_URL'];

const PLACEHOLDER = /change[-_ ]?(me|it)|replace[-_ ]?(me|with)|placeholder|example|dev[-_]?only|your[-_ ]|^(secret|password|passw0rd|test|todo|x+)$/i;

/** Whether a secret is one anybody can know: a development default or an obvious placeholder. */
export function isKnownSecret(value: string): boolean {
  return Object.values<string>(DEV_CREDENTIALS).includes(value) || PLACEHOLDER.test(value);
}

function urlPassword(value: string): string | undefined {
  try {
    return decodeURIComponent(new URL(value).password) || undefined;
  } catch {
    return undefined; // not a URL (a NATS list): the schema speaks for its format
  }
}

/**
 * The variables a production service refuses, with why, among those its schema reads (`names`):
 * a known secret, a server URL left at its development default or with a known password.
 */
export function productionProblems(names: Iterable<string>, env: NodeJS.ProcessEnv): { name: string; message: string }[] {
  const problems: { name: string; message: string }[] = [];
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && DEV_ONLY[name]?.(value)) {
      problems.push({ name, message: 'is for development only: unset it in production' });
    } else if (SECRETS.includes(name) && value !== undefined && isKnownSecret(value)) {
      problems.push({ name, message: 'is a development default or a placeholder: set a secret of your own in production' });
    } else if (SERVERS.includes(name) && !value) {
      problems.push({ name, message: 'must be set in production (the default is a development server)' });
    } else if (SERVERS.includes(name) && value && /^(memory|pglite):/.test(value)) {
      problems.push({ name, message: 'keeps its state inside one process (the embedded mode, for development): point it at a server in production' });
    } else if (SERVERS.includes(name) && value) {
      const password = urlPassword(value.split(',')[0]!.trim());
      if (password !== undefined && isKnownSecret(password)) {
        problems.push({ name, message: 'has a placeholder password: set a secret of your own in production' });
      }
    }
  }
  return problems;
}
