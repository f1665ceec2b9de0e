// Package protocol is the wire contract between the library and the
// server, as docs/protocol.md describes it, and nothing else: the messages
// (msg.go, objects.go), the binary frame header (frame.go), the error codes
// (codes.go), the rules for IDs (ids.go) and the codec (encode.go,
// decode.go, template.go). It imports only the standard library and gjson.
//
// How frames are queued, numbered for resume, buffered and written is
// transport machinery both sides share, in the packages under internal/
// (see internal/doc.go); a client written from docs/protocol.md needs
// none of it.
package protocol
