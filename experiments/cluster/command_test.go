package cluster

import (
	"context"
	"testing"
	"time"
)

// TestRunCommandDeadline: a command runs until its context's deadline when
// it has one, even past the default timeout, and is bounded by the timeout
// when it has none (Config.CommandTimeout's contract).
func TestRunCommandDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := runCommand(ctx, 200*time.Millisecond, nil, "", "/bin/sleep", "0.5"); err != nil {
		t.Errorf("with a 10 s deadline and a 200 ms timeout, sleep 0.5 failed: %v", err)
	}
	if _, err := runCommand(t.Context(), 200*time.Millisecond, nil, "", "/bin/sleep", "5"); err == nil {
		t.Error("without a deadline, sleep 5 outlived a 200 ms timeout")
	}
}
