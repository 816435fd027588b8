package main

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"
)

// The shared keys are a register each: a put sets a value unique in the
// run, a linearizable get returns it. Keys are independent, so the checker
// partitions the history by key and each partition's state is one string.

type opKind uint8

const (
	opPut opKind = iota
	opGet
)

type kvInput struct {
	Kind  opKind
	Key   string
	Value string // put only
}

type kvOutput struct {
	Value   string // get: the value read ("" = absent)
	Unknown bool   // the request failed or timed out: it may or may not have taken effect
}

// unknownReturn is the return time of operations whose outcome is unknown:
// after everything else, so the checker may place their effect anywhere
// after their call, or never (an effect at the very end is seen by no one).
const unknownReturn = int64(1) << 62

var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(kvInput).Key
			byKey[k] = append(byKey[k], op)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in, out := input.(kvInput), output.(kvOutput)
		switch in.Kind {
		case opPut:
			return true, in.Value
		default:
			if out.Unknown {
				return true, state
			}
			return out.Value == state.(string), state
		}
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(kvInput), output.(kvOutput)
		if in.Kind == opPut {
			if out.Unknown {
				return fmt.Sprintf("put(%s, %s) -> ?", in.Key, in.Value)
			}
			return fmt.Sprintf("put(%s, %s)", in.Key, in.Value)
		}
		if out.Unknown {
			return fmt.Sprintf("get(%s) -> ?", in.Key)
		}
		return fmt.Sprintf("get(%s) -> %q", in.Key, out.Value)
	},
}
