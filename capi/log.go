package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// logName is the log file under sdkDatSavePath; it is renamed to logName+".1"
// at crvideo_init once it exceeds logRotateSize.
const (
	logName       = "crvideomgr.log"
	logRotateSize = 10 << 20
)

// logSink is the one place the library writes diagnostics: the log file of the
// current crvideo_init. Between uninit and the next init, lines are appended to
// the last init's file (opened per line); before the first init they are
// dropped. Never stdout or stderr.
type logSink struct {
	mu   sync.Mutex
	path string   // file of the last init; "" before the first
	f    *os.File // open while initialised
}

var (
	sink    = &logSink{}
	slogger = slog.New(slog.NewTextHandler(sink, &slog.HandlerOptions{Level: slog.LevelInfo}))
)

// logger returns the library's logger.
func logger() *slog.Logger { return slogger }

// Write implements io.Writer for the slog handler.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		return s.f.Write(p)
	}
	if s.path == "" {
		return len(p), nil
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return len(p), nil
	}
	defer f.Close()
	return f.Write(p)
}

// open creates dir if needed and opens its log file, rotating a large one.
// It returns the file for close.
func (s *logSink) open(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, logName)
	if st, err := os.Stat(path); err == nil && st.Size() > logRotateSize {
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	old := s.f
	s.f, s.path = f, path
	s.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return f, nil
}

// close closes f, the file an open returned, unless a later open replaced it
// (a racing init): then only f is closed and the current file stays. Later
// lines go to the same path, opened per line.
func (s *logSink) close(f *os.File) {
	s.mu.Lock()
	if s.f == f {
		s.f = nil
	}
	s.mu.Unlock()
	if f != nil {
		f.Close()
	}
}

var _ io.Writer = (*logSink)(nil)
