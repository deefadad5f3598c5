/**
 * Version of the wire protocol between clients and the server (y-websocket URL parameters,
 * socket.io events). Sent as `v` in every handshake; a mismatch is refused by name
 * (close code 4426) rather than misread.
 */
export const PROTOCOL_VERSION = 1;
