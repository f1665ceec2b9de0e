package main

import (
	"sync"

	"golang.org/x/sys/unix"
)

// The poll-mode file descriptor: an eventfd created on first use and kept for
// the life of the process, so an application registers it in its main loop
// once. It is readable while events may be pending.
var (
	efdOnce sync.Once
	efd     = -1
)

// pollFd returns the eventfd, creating it on first use; -1 if it cannot.
func pollFd() int {
	efdOnce.Do(func() {
		fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
		if err != nil {
			logger().Error("eventfd failed; crvideo_pollFd returns -1", "err", err)
			return
		}
		efd = fd
	})
	return efd
}

// pollFdSignal makes the eventfd readable. Never blocks.
func pollFdSignal() {
	if fd := pollFd(); fd >= 0 {
		var one = [8]byte{1}
		_, _ = unix.Write(fd, one[:])
	}
}

// pollFdDrain makes the eventfd unreadable until the next signal.
func pollFdDrain() {
	if fd := pollFd(); fd >= 0 {
		var buf [8]byte
		_, _ = unix.Read(fd, buf[:])
	}
}
