// Package netconn is the TCP connection under a WebSocket, on both sides:
// the server wraps every accepted connection (Listener), the library every
// connection it dials (New). It knows nothing of WebSocket or of the
// protocol: gorilla/websocket reads and writes a Conn as it would the
// socket.
//
// A Conn is three independent parts, one file each, composed in conn.go:
//
//   - gather.go: writes made between Cork and Flush are gathered and leave
//     in one system call (a writer's batch of queued frames);
//   - deadline.go: socket deadlines are moved lazily, so that pushing a
//     deadline forward on every message costs a timer update only now and
//     then;
//   - pooledread.go (with rawread_unix.go): a small read waits for input
//     holding no buffer and is then served from a pooled one, so an idle
//     connection holds no read buffer.
package netconn
