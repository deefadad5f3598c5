/**
 * Transaction origins on a room's document. Updates from a connection carry the Connection
 * itself as origin (so the sender is not echoed); these tags mark everything else.
 */
export const LOAD_ORIGIN = Symbol('load');
/** The server's own writes that were already stored (lock state): broadcast, do not store again. */
export const STORED_SERVER_ORIGIN = Symbol('stored-server');
/** The server's own writes that still have to be stored (decisions). */
export const SERVER_ORIGIN = Symbol('server');
/** Updates stored by another node and carried here by the fan-out: broadcast, never stored again. */
export const REMOTE_ORIGIN = Symbol('remote');
