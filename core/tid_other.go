//go:build !linux

package core

// haveThreadID: without gettid every token is a goroutine ID.
const haveThreadID = false

func threadID() (uint64, bool) { return 0, false }
