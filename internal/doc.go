// Package internal holds nothing itself; its subpackages are the transport
// machinery that the library (core) and the server share, which no one
// implementing a client from docs/protocol.md needs to read. Each does one
// thing:
//
//   - netconn: the TCP connection under a WebSocket (writes gathered
//     between Cork and Flush, lazy socket deadlines, pooled reads);
//   - outbox: a connection's send queue (Frame, the two-priority Outbox,
//     WriteBatch);
//   - msgbuf: received messages in pooled, reference-counted buffers;
//   - replay: the numbered stream that survives a lost connection, and
//     the counter of what arrived.
//
// Arrows point one way (arrows_test.go checks them): capi → core →
// {protocol, internal}, server → {protocol, internal}; server never
// imports core, nor core server; protocol imports only the standard library
// and gjson; internal packages import each other and the standard library,
// never protocol (they carry frames, not messages), core or server.
package internal
