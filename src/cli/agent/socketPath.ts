// Where a profile's agent listens, and whether a socket there is safe to talk to. Like ssh-agent's
// SSH_AUTH_SOCK, $CLOISTER_AGENT_SOCK names the socket; without it each profile has a default one in
// <home>/agent/ (a 0700 directory), so `--home` alone finds the agent.
import { createHash } from 'node:crypto';
import { lstatSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const SOCK_ENV = 'CLOISTER_AGENT_SOCK';
export const PID_ENV = 'CLOISTER_AGENT_PID';
/** sockaddr_un.sun_path holds 108 bytes on Linux and 104 on macOS, with its NUL. */
const MAX_SOCKET_PATH = 100;

/** The profile's own socket: <home>/agent/agent.sock, or (for a home too deep for sun_path) one per profile in a private folder of the temp dir. */
export function defaultSocketPath(home: string): string {
  const inHome = join(home, 'agent', 'agent.sock');
  if (Buffer.byteLength(inHome) <= MAX_SOCKET_PATH) return inHome;
  const uid = process.getuid?.() ?? 0;
  return join(tmpdir(), `cloister-agent-${uid}`, `${createHash('sha256').update(home).digest('hex').slice(0, 24)}.sock`);
}

/** The sockets a command tries, in order: $CLOISTER_AGENT_SOCK, then the profile's default. */
export function candidateSockets(home: string): string[] {
  const env = process.env[SOCK_ENV];
  const def = defaultSocketPath(home);
  return env && env !== def ? [env, def] : [def];
}

/** Why `path` must not be used as this user's agent socket, or undefined when it is private to them. */
export function unsafeSocket(path: string): string | undefined {
  let sock: Stats;
  try {
    sock = lstatSync(path);
  } catch {
    return undefined; // absent: nothing to talk to, nothing unsafe
  }
  const uid = process.getuid?.();
  if (!sock.isSocket()) return `${path} is not a socket`;
  if (uid !== undefined && sock.uid !== uid) return `${path} belongs to another user (uid ${sock.uid})`;
  if ((sock.mode & 0o077) !== 0) return `${path} is open to other users (mode ${(sock.mode & 0o777).toString(8)})`;
  return unsafeDir(dirname(path));
}

/** Why `dir` can't hold an agent socket: it must be a real directory of this user that nobody else can enter. */
export function unsafeDir(dir: string): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (e) {
    return `${dir}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
  const uid = process.getuid?.();
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (uid !== undefined && st.uid !== uid) return `${dir} belongs to another user (uid ${st.uid})`;
  if ((st.mode & 0o077) !== 0) return `${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}
