package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"etcd-lsm/experiments/cluster"
)

// logWatch follows a member's log from the moment it is made, reading only
// what was appended, so it can poll every few milliseconds and time a kill
// to a step etcd logs (a defrag, a snapshot send) without rereading the
// whole file.
type logWatch struct {
	path string
	off  int64
	buf  []byte
}

func watchLog(m *cluster.Member) *logWatch {
	w := &logWatch{path: m.LogPath}
	if st, err := os.Stat(m.LogPath); err == nil {
		w.off = st.Size()
	}
	return w
}

func (w *logWatch) poll() {
	f, err := os.Open(w.path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(w.off, io.SeekStart); err != nil {
		return
	}
	b, _ := io.ReadAll(f)
	w.off += int64(len(b))
	w.buf = append(w.buf, b...)
}

// seen reports whether msg was logged since the watch began.
func (w *logWatch) seen(msg string) bool {
	w.poll()
	return bytes.Contains(w.buf, []byte(msg))
}

// wait polls every 2ms until msg appears, ctx ends or d passes.
func (w *logWatch) wait(ctx context.Context, msg string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !w.seen(msg) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%q not logged within %v", msg, d)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}
