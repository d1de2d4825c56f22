// Node's crypto module when running on Node (20.16+ exposes process.getBuiltinModule synchronously),
// undefined in browsers. Lets a construction use the native primitive where it exists and noble
// elsewhere, without a bundler alias.
type NodeCrypto = typeof import('node:crypto');

export const nodeCrypto: NodeCrypto | undefined = (() => {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return p?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  } catch {
    return undefined;
  }
})();
