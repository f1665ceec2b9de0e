// Package core is the crvideomgr client engine: a pure-Go implementation of
// Cloudroom's CloudroomVideoMgr (login, do-not-disturb, user status, meetings,
// calls, invitations, commands, buffers and files) speaking the protocol of
// package protocol to a crvideosrv server.
//
// A Mgr mirrors the seed API one to one; results and notifications arrive on
// the Callback, asynchronously, in order, one at a time. The package keeps no
// global state: any number of Mgrs can live in one process.
//
// Concurrency.
//
// Goroutines: each connection has a reader (conn.readLoop, which runs
// session.onFrame and everything it dispatches) and a writer
// (conn.writeLoop, which drains the connection's outbox.Outbox and runs
// session.onTick every ping period). A session adds its login goroutine
// (session.run), a reconnect goroutine while a lost connection is resumed
// (session.reconnect, which also runs relogin), one pump per outgoing
// buffer or file (session.pump) and, while chunks wait, one storing
// goroutine (session.storeChunks). Request timeouts and stall checks run on
// timer goroutines. Callbacks run on the dispatcher's goroutine, or inside
// Poll on the application's.
//
// Mgr.mu guards the Mgr and every session's state (the fields not marked
// otherwise). Under it the only outside effects allowed are non-blocking:
// queueing an event (Mgr.emit), a frame on the session's stream, a timer
// stopped or reset, a context cancelled. File I/O and log lines wait for
// its release: Mgr.trash and Mgr.later record them, Mgr.unlock runs them.
//
// Lock order: a goroutine holding one of these locks takes only locks below
// it in the chain, never one above.
//
//	dispatcher.cbMu      held while a callback runs (events.go): a callback may
//	                     call the Mgr, and some events take Mgr.mu themselves
//	Mgr.mu               the Mgr and its sessions (mgr.go)
//	replay.Stream.mu     the session's numbered frames, kept until acknowledged
//	outbox.Outbox.mu     the connection's send queue; it signals its writer
//	                     through a channel, after it is released
//
// And leaves, holding no other lock:
//
//	session.reqMu        the requests awaiting replies, pending and nextID
//	                     (request.go); taken under Mgr.mu by requestLocked, and
//	                     released before a reply handler runs (which takes Mgr.mu)
//	eventQueue.mu        the queued events (events.go); taken under Mgr.mu by
//	                     Mgr.emit, and Config.OnPending runs there too
//	session.bulkMu       the chunks read and not yet stored, bulkQ and storing
//	                     (receive.go); taken by the reader and the storing
//	                     goroutine, under no other lock
//	replay.RecvCounter.mu  frames received and acknowledged; under no other lock
//	dialAttempt.mu       one dial's connection, closed by abort (conn.go)
//	junk.once            a discarded file's close and removal, after Mgr.mu or
//	                     inside the callback that reports it (mgr.go)
//	netconn's gatherer.mu and deadline.mu: the connection's own (a writer's batch
//	                     of writes, one socket deadline), under no lock of ours
//	msgbuf's bigMu       the registry of large read-buffer pools
package core
