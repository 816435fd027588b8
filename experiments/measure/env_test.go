package measure

import (
	"strings"
	"testing"
	"time"
)

// Settings from the environment: unset means the default, a bad value is
// an error naming the variable, never a silent default.
func TestParseEnvInt(t *testing.T) {
	if n, err := ParseEnvInt("ROUNDS", "", 3); n != 3 || err != nil {
		t.Errorf("unset: %d %v", n, err)
	}
	if n, err := ParseEnvInt("ROUNDS", " 5 ", 3); n != 5 || err != nil {
		t.Errorf("5: %d %v", n, err)
	}
	for _, bad := range []string{"1OO", "12abc", "3.5"} {
		if _, err := ParseEnvInt("PROFILE_CLIENTS", bad, 1000); err == nil || !strings.Contains(err.Error(), "PROFILE_CLIENTS=") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseEnvDuration(t *testing.T) {
	if d, err := ParseEnvDuration("QUIET_BUDGET", "", 3*time.Minute); d != 3*time.Minute || err != nil {
		t.Errorf("unset: %v %v", d, err)
	}
	if d, err := ParseEnvDuration("QUIET_BUDGET", "0", 3*time.Minute); d != 0 || err != nil {
		t.Errorf("0: %v %v", d, err)
	}
	if d, err := ParseEnvDuration("QUIET_BUDGET", "90s", 3*time.Minute); d != 90*time.Second || err != nil {
		t.Errorf("90s: %v %v", d, err)
	}
	for _, bad := range []string{"3 minutes", "180"} {
		if _, err := ParseEnvDuration("QUIET_BUDGET", bad, 3*time.Minute); err == nil || !strings.Contains(err.Error(), "QUIET_BUDGET=") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
