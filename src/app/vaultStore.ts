// Where the web app keeps its vault: one IndexedDB database for this origin.
import { idbBytesStore } from '../identity/vault/idbBytes.ts';

export const VAULT_DB = 'cloister-vault';
export const vaultStore = idbBytesStore(VAULT_DB);
