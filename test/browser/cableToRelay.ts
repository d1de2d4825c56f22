// A network cable between clients and a relay that a test can pull out and plug back in: a TCP proxy
// that, while unplugged, drops every open connection and refuses new ones. Chromium's offline
// emulation leaves an open WebSocket alone, so it can't take the web app offline.
import { connect, createServer, type Socket } from 'node:net';

export interface Cable {
  /** ws:// URL to give clients instead of the relay's. */
  url: string;
  /** http:// URL of the same. */
  httpUrl: string;
  unplug(): void;
  plug(): void;
  close(): Promise<void>;
}

export async function cableToRelay(relayPort: number): Promise<Cable> {
  let plugged = true;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s)));
  const server = createServer((client) => {
    if (!plugged) return void client.destroy();
    const upstream = connect(relayPort, '127.0.0.1');
    track(client);
    track(upstream);
    const drop = () => (client.destroy(), upstream.destroy());
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/`,
    httpUrl: `http://127.0.0.1:${port}`,
    unplug() {
      plugged = false;
      for (const s of sockets) s.destroy();
    },
    plug() {
      plugged = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
