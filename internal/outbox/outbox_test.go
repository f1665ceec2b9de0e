package outbox

import (
	"bytes"
	"errors"
	"testing"
)

func TestOutboxControlFirst(t *testing.T) {
	o := New(10)
	released := 0
	rel := func() { released++ }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(o.PushBulk(Frame{Body: []byte("b1"), Release: rel}))
	must(o.PushCtrl(Frame{Head: []byte("c1")}))
	must(o.PushBulk(Frame{Body: []byte("b2"), Release: rel}))
	must(o.PushCtrl(Frame{Head: []byte("c2")}))
	var order []string
	for {
		f, ok := o.Pop()
		if !ok {
			break
		}
		order = append(order, string(f.Head)+string(f.Body))
	}
	if got := string(bytes.Join(toBytes(order), []byte(","))); got != "c1,c2,b1,b2" {
		t.Fatalf("order %s, want control first", got)
	}
	// Control bytes are bounded; bulk is not (the transfer window bounds it).
	must(o.PushCtrl(Frame{Head: []byte("12345678")}))
	if err := o.PushCtrl(Frame{Head: []byte("123"), Release: rel}); !errors.Is(err, ErrFull) {
		t.Fatalf("overflow err = %v", err)
	}
	if released != 1 {
		t.Fatalf("released %d, want the refused frame released", released)
	}
	must(o.PushBulk(Frame{Body: make([]byte, 100), Release: rel}))
	o.Close()
	o.Close()
	if released != 2 {
		t.Fatalf("released %d after Close, want queued frames released", released)
	}
	if err := o.PushCtrl(Frame{Release: rel}); !errors.Is(err, ErrClosed) || released != 3 {
		t.Fatalf("push after close: %v, released %d", err, released)
	}
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func TestOutboxNotify(t *testing.T) {
	n := 0
	o := NewNotify(0, func() { n++ })
	if o.Ready() != nil {
		t.Fatal("Ready of a notifying outbox is not nil")
	}
	o.PushCtrl(Frame{Head: []byte("c")})
	o.PushBulk(Frame{Body: []byte("b")})
	if n != 2 {
		t.Fatalf("notified %d times after 2 pushes", n)
	}
	o.Close()
	if n != 3 {
		t.Fatalf("notified %d times, want once more on Close", n)
	}
	o.Close()
	if err := o.PushCtrl(Frame{}); !errors.Is(err, ErrClosed) || n != 3 {
		t.Fatalf("after Close: err %v, notified %d times", err, n)
	}
}

// TestFrameDone: Done runs Release once, and is harmless without one.
func TestFrameDone(t *testing.T) {
	n := 0
	f := Frame{Release: func() { n++ }}
	f.Done()
	f.Done()
	if n != 1 || f.Release != nil {
		t.Fatalf("released %d times", n)
	}
	(&Frame{}).Done()
}
