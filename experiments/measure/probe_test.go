package measure

import "testing"

func TestProbe(t *testing.T) {
	p := NewProbe()
	seen := map[uint32]bool{}
	for i := uint32(0); len(seen) < 1000; i = p.next[i] {
		if seen[i] {
			t.Fatalf("the probe's cycle closes after %d slots, want all %d", len(seen), len(p.next))
		}
		seen[i] = true
	}
	for range 2 {
		at := p.at
		got, err := p.Run()
		if err != nil {
			t.Fatal(err)
		}
		if got.Compute <= 0 || got.Memory <= 0 {
			t.Errorf("Run = %+v, want both times above zero", got)
		}
		if p.at == at {
			t.Errorf("the chase did not move on from slot %d", at)
		}
	}
}
