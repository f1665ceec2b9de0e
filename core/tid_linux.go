package core

import "syscall"

// haveThreadID: thread IDs name the goroutines locked to their thread.
const haveThreadID = true

// threadID returns the calling thread's ID (gettid, one system call).
func threadID() (uint64, bool) { return uint64(syscall.Gettid()), true }
