package main

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func put(client int, key, val string, call, ret int64, unknown bool) porcupine.Operation {
	if unknown {
		ret = unknownReturn
	}
	return porcupine.Operation{ClientId: client, Input: kvInput{Kind: opPut, Key: key, Value: val}, Call: call, Output: kvOutput{Unknown: unknown}, Return: ret}
}

func get(client int, key, val string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: kvInput{Kind: opGet, Key: key}, Call: call, Output: kvOutput{Value: val}, Return: ret}
}

func TestModel(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
		h    []porcupine.Operation
	}{
		{"sequential", true, []porcupine.Operation{
			put(0, "a", "1", 0, 10, false), get(1, "a", "1", 20, 30), put(0, "a", "2", 40, 50, false), get(1, "a", "2", 60, 70),
		}},
		{"stale read", false, []porcupine.Operation{
			put(0, "a", "1", 0, 10, false), put(0, "a", "2", 20, 30, false), get(1, "a", "1", 40, 50),
		}},
		{"lost acknowledged write", false, []porcupine.Operation{
			put(0, "a", "1", 0, 10, false), get(1, "a", "", 20, 30),
		}},
		{"value never written", false, []porcupine.Operation{
			get(1, "a", "x", 0, 10),
		}},
		{"concurrent put seen either way", true, []porcupine.Operation{
			put(0, "a", "1", 0, 100, false), get(1, "a", "", 10, 20), get(2, "a", "1", 30, 40),
		}},
		{"read goes back in time", false, []porcupine.Operation{
			put(0, "a", "1", 0, 100, false), get(1, "a", "1", 10, 20), get(2, "a", "", 30, 40),
		}},
		{"failed put that took effect", true, []porcupine.Operation{
			put(0, "a", "1", 0, 0, true), get(1, "a", "1", 50, 60),
		}},
		{"failed put that did not", true, []porcupine.Operation{
			put(0, "a", "1", 0, 0, true), get(1, "a", "", 50, 60),
		}},
		{"failed put seen, then unseen", false, []porcupine.Operation{
			put(0, "a", "1", 0, 0, true), get(1, "a", "1", 50, 60), get(1, "a", "", 70, 80),
		}},
		{"keys are independent", true, []porcupine.Operation{
			put(0, "a", "1", 0, 10, false), put(1, "b", "2", 0, 10, false), get(2, "a", "1", 20, 30), get(2, "b", "2", 20, 30),
		}},
		{"keys are independent, one bad", false, []porcupine.Operation{
			put(0, "a", "1", 0, 10, false), put(1, "b", "2", 0, 10, false), get(2, "a", "1", 20, 30), get(2, "b", "1", 20, 30),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := porcupine.CheckOperationsTimeout(kvModel, c.h, 10*time.Second)
			want := porcupine.Illegal
			if c.ok {
				want = porcupine.Ok
			}
			if res != want {
				t.Errorf("got %v, want %v", res, want)
			}
		})
	}
}
