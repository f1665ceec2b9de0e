//go:build !unix

package netconn

import "net"

// rawReader is Unix only; elsewhere a pooledReader reads straight from its
// connection.
type rawReader struct{}

func newRawReader(net.Conn) *rawReader { return nil }

func (*rawReader) read() (*[]byte, int, error) { panic("unreachable") }
